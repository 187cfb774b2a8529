package store_test

import (
	"context"
	"strings"
	"testing"

	"spass/shared/store"
)

func TestSystemPromptsResolveUserFirst(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		save := func(tenant, owner, name, content string, wantCreated bool) {
			t.Helper()
			sp, created, err := db.SaveSystemPrompt(ctx, tenant, owner, name, content, "test")
			if err != nil || created != wantCreated || sp.Content != content || sp.Owner != owner {
				t.Fatalf("save %s/%s/%s: %+v created=%v err=%v", tenant, owner, name, sp, created, err)
			}
		}
		save("acme", "", "support", "Be kind.", true)
		save("acme", "", "support", "Be very kind.", false)
		save("acme", "alice", "support", "Be terse.", true)
		save("acme", "alice", "pirate", "Arr.", true)
		save("globex", "", "support", "Globex voice.", true)

		for _, c := range []struct {
			tenant, user, name, want string
			ok                       bool
		}{
			{"acme", "alice", "support", "Be terse.", true}, // the user's shadows the tenant's
			{"acme", "bob", "support", "Be very kind.", true},
			{"acme", "", "support", "Be very kind.", true},
			{"acme", "bob", "pirate", "", false}, // alice's own, not bob's
			{"globex", "alice", "pirate", "", false},
			{"globex", "alice", "support", "Globex voice.", true},
			{"initech", "alice", "support", "", false},
		} {
			got, ok, err := db.ResolveSystemPrompt(ctx, c.tenant, c.user, c.name)
			if got != c.want || ok != c.ok || err != nil {
				t.Errorf("resolve %+v: %q %v %v", c, got, ok, err)
			}
		}

		list, err := db.SystemPrompts(ctx, "acme", "bob")
		if err != nil || len(list) != 1 || list[0].Owner != "" {
			t.Fatalf("bob sees the tenant's prompts only: %+v %v", list, err)
		}
		if list, _ = db.SystemPrompts(ctx, "acme", "alice"); len(list) != 3 || list[0].Name != "pirate" || list[1].Owner != "" || list[2].Owner != "alice" {
			t.Fatalf("alice's list: %+v", list)
		}
		if _, ok, _ := db.UpdateSystemPrompt(ctx, "globex", "alice", "pirate", "x", "t"); ok {
			t.Fatal("update across tenants")
		}
		if sp, ok, err := db.UpdateSystemPrompt(ctx, "acme", "alice", "pirate", "Yo ho.", "t"); !ok || err != nil || sp.Content != "Yo ho." {
			t.Fatalf("update: %+v %v %v", sp, ok, err)
		}
		if gone, _ := db.DeleteSystemPrompt(ctx, "acme", "bob", "pirate"); gone {
			t.Fatal("bob deleted alice's prompt")
		}
		if gone, _ := db.DeleteSystemPrompt(ctx, "acme", "alice", "support"); !gone {
			t.Fatal("delete failed")
		}
		// With her own gone, alice falls back to the tenant's prompt.
		if got, _, _ := db.ResolveSystemPrompt(ctx, "acme", "alice", "support"); got != "Be very kind." {
			t.Fatalf("fallback: %q", got)
		}
	})
}

func TestPromptNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"support": true, "a": true, "v1.2_draft-x": true, "0day": true,
		"": false, "Support": false, "-x": false, ".x": false, "has space": false, "a/b": false,
		"a" + strings.Repeat("b", 63): true, "a" + strings.Repeat("b", 64): false, // at most 64 characters
	} {
		if store.PromptName.MatchString(name) != ok {
			t.Errorf("%q: valid=%v, want %v", name, !ok, ok)
		}
	}
}
