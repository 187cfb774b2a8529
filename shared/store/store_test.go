package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx", for setVersion
	"github.com/jmoiron/sqlx"

	"spass/local/pgtest"
	"spass/shared/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "spass.db"))
}

func openAt(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dialects are the databases every store test runs on: a SQLite file, and a
// database of its own on the local PostgreSQL server.
var dialects = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "spass.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// eachDialect runs f as a subtest on a new store of each dialect.
func eachDialect(t *testing.T, f func(t *testing.T, db *store.DB)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { f(t, openAt(t, d.dsn(t))) })
	}
}

func TestMigrationsAndNewerSchemaRefused(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := d.dsn(t)
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			v, err := db.Version(ctx)
			if err != nil || v < 1 {
				t.Fatalf("version %d %v", v, err)
			}
			db.Close()
			// Reopening is a no-op, also from several hosts at once.
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					db, err := store.Open(ctx, dsn)
					if err != nil {
						t.Error(err)
						return
					}
					if again, _ := db.Version(ctx); again != v {
						t.Errorf("version %d after reopening, want %d", again, v)
					}
					db.Close()
				})
			}
			wg.Wait()
			setVersion(t, d.name, dsn, 999)
			if _, err := store.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
				t.Fatalf("a newer schema must be refused, got %v", err)
			}
		})
	}
}

func TestNewPostgresDatabasesMigrateOnceFromSeveralHosts(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.URL(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	db := openAt(t, dsn)
	if db.Dialect() != store.Postgres {
		t.Fatalf("dialect %s", db.Dialect())
	}
	if err := db.InsertLedger(ctx, []store.LedgerRow{row("acme", "m", "u", 1, 200)}); err != nil {
		t.Fatal(err)
	}
}

// setVersion writes the schema version behind the store's back.
func setVersion(t *testing.T, dialect, dsn string, v int) {
	t.Helper()
	var raw *sqlx.DB
	var err error
	q := fmt.Sprintf("PRAGMA user_version = %d", v)
	if dialect == "postgres" {
		raw, err = sqlx.Open("pgx", dsn)
		q = fmt.Sprintf("UPDATE schema_version SET version = %d", v)
	} else {
		raw, err = store.OpenRaw(dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func TestTenantConfigIsScoped(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.SetConfig(ctx, "acme", map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`"x"`)}, "t1"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetConfig(ctx, "globex", map[string]json.RawMessage{"a": json.RawMessage(`2`)}, "t2"); err != nil {
			t.Fatal(err)
		}
		got, _ := db.ConfigOverrides(ctx, "acme")
		if len(got) != 2 || string(got["a"]) != "1" {
			t.Fatalf("acme %v", got)
		}
		if ok, _ := db.DeleteConfig(ctx, "globex", "b"); ok {
			t.Fatal("globex deleted acme's key")
		}
		if ok, _ := db.DeleteConfig(ctx, "acme", "a"); !ok {
			t.Fatal("delete one key")
		}
		got, _ = db.ConfigOverrides(ctx, "acme")
		other, _ := db.ConfigOverrides(ctx, "globex")
		if len(got) != 1 || string(other["a"]) != "2" {
			t.Fatalf("acme %v globex %v", got, other)
		}
		db.DeleteConfig(ctx, "acme", "")
		if got, _ = db.ConfigOverrides(ctx, "acme"); len(got) != 0 {
			t.Fatalf("delete all left %v", got)
		}
	})
}

func row(tenant, model, user string, at int64, status int) store.LedgerRow {
	return store.LedgerRow{TenantID: tenant, UserID: user, RequestID: fmt.Sprint("req_", at), Route: "chat", Model: model,
		Backend: "b", PromptTokens: 10, CompletionTokens: 5, CostNanoUSD: 1500, CostNanoEUR: 1400, Status: status, CreatedAt: at}
}

func TestRollupIsIdempotentAndUsageExact(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const hour = 3_600_000
		var rows []store.LedgerRow
		for i := int64(0); i < 30; i++ {
			rows = append(rows, row("acme", []string{"m1", "m2"}[i%2], "u", i*hour/7, 200))
		}
		rows = append(rows, row("acme", "m1", "u", 2*hour, 502), row("globex", "m1", "u", hour, 200))
		if err := db.InsertLedger(ctx, rows[:20]); err != nil {
			t.Fatal(err)
		}
		q := store.UsageQuery{From: 0, To: 10 * hour, Bucket: "hour", GroupBy: "model"}
		before, _ := db.Usage(ctx, "acme", q)
		if _, err := db.Rollup(ctx, "hour"); err != nil {
			t.Fatal(err)
		}
		// Rows arriving after a rollup are the tail.
		if err := db.InsertLedger(ctx, rows[20:]); err != nil {
			t.Fatal(err)
		}
		mid, _ := db.Usage(ctx, "acme", q)
		for i := 0; i < 2; i++ {
			if _, err := db.Rollup(ctx, "hour"); err != nil {
				t.Fatal(err)
			}
		}
		after, _ := db.Usage(ctx, "acme", q)
		if sum(before).Requests != 20 || sum(mid) != sum(after) {
			t.Fatalf("before %+v mid %+v after %+v", sum(before), sum(mid), sum(after))
		}
		want := store.UsageRow{Requests: 31, Errors: 1, PromptTokens: 310, CompletionTokens: 155, CostNanoUSD: 31 * 1500, CostNanoEUR: 31 * 1400}
		if got := sum(after); got != want {
			t.Fatalf("sum %+v, want %+v (globex's row must not count)", got, want)
		}
		days, _ := db.Usage(ctx, "acme", store.UsageQuery{From: 0, To: 10 * hour, Bucket: "day", GroupBy: "user"})
		if len(days) != 1 || days[0].Requests != 31 || days[0].Group != "u" {
			t.Fatalf("day buckets %+v", days)
		}
	})
}

func sum(rows []store.UsageRow) store.UsageRow {
	var s store.UsageRow
	for _, r := range rows {
		s.Requests += r.Requests
		s.Errors += r.Errors
		s.PromptTokens += r.PromptTokens
		s.CompletionTokens += r.CompletionTokens
		s.CachedTokens += r.CachedTokens
		s.CostNanoUSD += r.CostNanoUSD
		s.CostNanoEUR += r.CostNanoEUR
	}
	return s
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for g := 0; g < 16; g++ {
			wg.Go(func() {
				for i := 0; i < 25; i++ {
					if err := db.InsertLedger(ctx, []store.LedgerRow{row("acme", "m", "u", int64(g*1000+i), 200)}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		got, _ := db.LedgerRows(ctx, "acme", 0, 1<<40)
		if len(got) != 400 {
			t.Fatalf("%d rows, want 400", len(got))
		}
		if v, err := db.IntegrityCheck(ctx); v != "ok" || err != nil {
			t.Fatalf("integrity %q %v", v, err)
		}
	})
}

func TestJobSlotsAreClaimedOnce(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := d.dsn(t)
			hosts := []*store.DB{openAt(t, dsn), openAt(t, dsn), openAt(t, dsn)}
			now := time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC)
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			for _, h := range hosts {
				wg.Go(func() {
					ok, err := h.ClaimJobSlot(ctx, "rollup:hour@2026-03-01T10:00Z", now)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						won++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if won != 1 {
				t.Fatalf("%d hosts claimed the slot, want 1", won)
			}
			if ok, _ := hosts[0].ClaimJobSlot(ctx, "rollup:hour@2026-03-01T11:00Z", now.Add(time.Hour)); !ok {
				t.Fatal("the next period was not claimable")
			}
			// Two days on, the old claim is pruned and its id could be claimed again.
			if ok, _ := hosts[1].ClaimJobSlot(ctx, "rollup:hour@2026-03-01T10:00Z", now.Add(49*time.Hour)); !ok {
				t.Fatal("an old claim was not pruned")
			}
		})
	}
}
