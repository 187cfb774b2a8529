package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"spass/shared/memory"
	"spass/shared/store"
	"spass/shared/tools"
)

// *store.DB is the memory tools' store.
var _ tools.MemoryStore = (*store.DB)(nil)

func TestMemoryUpsertByKey(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		alice := memory.Place{Scope: memory.ScopeUser, Owner: "alice"}
		e, created, err := db.SaveMemory(ctx, "acme", memory.Entry{Scope: alice.Scope, Owner: alice.Owner, Key: "lang", Content: "Go", Tags: []string{"pref"}})
		if err != nil || !created || e.ID == "" || e.Key != "lang" {
			t.Fatalf("first save: %+v created=%v err=%v", e, created, err)
		}
		// Same key again: the entry is replaced in place, nil tags keep the old ones.
		again, created, err := db.SaveMemory(ctx, "acme", memory.Entry{Scope: alice.Scope, Owner: alice.Owner, Key: "lang", Content: "Rust"})
		if err != nil || created || again.ID != e.ID || again.Content != "Rust" || !slices.Equal(again.Tags, []string{"pref"}) {
			t.Fatalf("second save: %+v created=%v err=%v", again, created, err)
		}
		// Explicit tags replace them.
		again, _, _ = db.SaveMemory(ctx, "acme", memory.Entry{Scope: alice.Scope, Owner: alice.Owner, Key: "lang", Content: "Rust", Tags: []string{}})
		if len(again.Tags) != 0 {
			t.Fatalf("tags not replaced: %v", again.Tags)
		}
		// No key: one is generated, so two saves are two entries.
		a, _, _ := db.SaveMemory(ctx, "acme", memory.Entry{Scope: memory.ScopeTenant, Content: "x"})
		b, _, _ := db.SaveMemory(ctx, "acme", memory.Entry{Scope: memory.ScopeTenant, Content: "x"})
		if a.Key == "" || a.ID == b.ID || a.Key == b.Key {
			t.Fatalf("generated keys: %+v %+v", a, b)
		}
	})
}

func TestMemoryIsScopedByTenantAndOwner(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mine, _, _ := db.SaveMemory(ctx, "acme", memory.Entry{Scope: memory.ScopeUser, Owner: "alice", Key: "k", Content: "alice's"})
		db.SaveMemory(ctx, "acme", memory.Entry{Scope: memory.ScopeUser, Owner: "bob", Key: "k", Content: "bob's"})
		db.SaveMemory(ctx, "globex", memory.Entry{Scope: memory.ScopeUser, Owner: "alice", Key: "k", Content: "globex alice's"})

		if _, ok, err := db.GetMemory(ctx, "globex", mine.ID); ok || err != nil {
			t.Fatalf("another tenant read the entry: ok=%v err=%v", ok, err)
		}
		if gone, err := db.DeleteMemory(ctx, "globex", mine.ID); gone || err != nil {
			t.Fatalf("another tenant deleted the entry: %v %v", gone, err)
		}
		if _, ok, _ := db.UpdateMemory(ctx, "globex", mine.ID, ptr("hacked"), nil); ok {
			t.Fatal("another tenant updated the entry")
		}
		got, _, _ := db.GetMemory(ctx, "acme", mine.ID)
		if got.Content != "alice's" {
			t.Fatalf("entry changed: %+v", got)
		}
		found, err := db.FindMemory(ctx, "acme", memory.Query{Places: []memory.Place{{Scope: memory.ScopeUser, Owner: "alice"}}})
		if err != nil || len(found) != 1 || found[0].Content != "alice's" {
			t.Fatalf("alice's place: %+v %v", found, err)
		}
		if found, _ := db.FindMemory(ctx, "acme", memory.Query{}); len(found) != 0 {
			t.Fatalf("a query without places must select nothing, got %+v", found)
		}
	})
}

func TestMemorySearch(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tenant := memory.Place{Scope: memory.ScopeTenant}
		for _, e := range []struct{ key, content string }{
			{"dessert", "The team loves an ÉCLAIR on Fridays"},
			{"discount", "Partners get 100% off"},
			{"percent", "100 percent of the time"},
			{"Server_Name", "prod is called atlas"},
		} {
			if _, _, err := db.SaveMemory(ctx, "acme", memory.Entry{Scope: tenant.Scope, Key: e.key, Content: e.content}); err != nil {
				t.Fatal(err)
			}
			tick()
		}
		keys := func(q memory.Query) []string {
			q.Places = []memory.Place{tenant}
			found, err := db.FindMemory(ctx, "acme", q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range found {
				out = append(out, e.Key)
			}
			return out
		}
		for _, c := range []struct {
			q    memory.Query
			want []string
		}{
			{memory.Query{Text: "éclair"}, []string{"dessert"}},          // Unicode case folding
			{memory.Query{Text: "100%"}, []string{"discount"}},           // % is literal
			{memory.Query{Text: "s_r"}, nil},                             // _ is literal ("ser" would match)
			{memory.Query{Text: "server_name"}, []string{"Server_Name"}}, // keys match too
			{memory.Query{Key: "percent"}, []string{"percent"}},          // exact key
			{memory.Query{Limit: 2}, []string{"Server_Name", "percent"}}, // newest first
			{memory.Query{Text: "100"}, []string{"percent", "discount"}}, // both, newest first
			{memory.Query{Text: "nothing like this"}, nil},
		} {
			if got := keys(c.q); !slices.Equal(got, c.want) {
				t.Errorf("%+v: got %v, want %v", c.q, got, c.want)
			}
		}
		// An update re-indexes the content.
		found, _ := db.FindMemory(ctx, "acme", memory.Query{Places: []memory.Place{tenant}, Key: "dessert"})
		if _, ok, err := db.UpdateMemory(ctx, "acme", found[0].ID, ptr("Croissants now"), nil); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if got := keys(memory.Query{Text: "croissant"}); !slices.Equal(got, []string{"dessert"}) {
			t.Errorf("after update: %v", got)
		}
	})
}

func TestMemorySummary(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, e := range []memory.Entry{
			{Scope: memory.ScopeAgent, Owner: "planner", Key: "a1", Content: "x"},
			{Scope: memory.ScopeAgent, Owner: "planner", Key: "a2", Content: "x"},
			{Scope: memory.ScopeAgent, Owner: "coder", Key: "c1", Content: "x"},
			{Scope: memory.ScopeTenant, Key: "t1", Content: "x"},
			{Scope: memory.ScopeUser, Owner: "bob", Key: "b1", Content: "x"},
		} {
			db.SaveMemory(ctx, "acme", e)
			tick()
		}
		sums, err := db.SummarizeMemory(ctx, "acme", []memory.Place{
			{Scope: memory.ScopeUser, Owner: "alice"}, {Scope: memory.ScopeTenant}, {Scope: memory.ScopeAgent, AnyOwner: true},
		}, 1)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			scope, owner string
			n            int
			keys         string
		}
		var got []row
		for _, s := range sums {
			got = append(got, row{s.Scope, s.Owner, s.Count, slices.Concat(s.Keys, []string{""})[0]})
		}
		want := []row{{"user", "alice", 0, ""}, {"tenant", "", 1, "t1"}, {"agent", "coder", 1, "c1"}, {"agent", "planner", 2, "a2"}}
		if !slices.Equal(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// tick lets the millisecond clock move, so "newest first" has an order to check.
func tick() { time.Sleep(2 * time.Millisecond) }
