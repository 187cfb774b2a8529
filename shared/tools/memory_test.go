package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"spass/shared/identity"
	"spass/shared/memory"
	"spass/shared/store"
	"spass/shared/tools"
)

// memoryRegistry registers the memory tools over a real SQLite store.
func memoryRegistry(t *testing.T) (*tools.Registry, *store.DB) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := tools.NewRegistry()
	for _, tool := range tools.Memory(db) {
		if err := reg.Add(tool); err != nil {
			t.Fatal(err)
		}
	}
	return reg, db
}

var (
	alice    = identity.Principal{Tenant: "acme", Role: identity.RoleUser, User: "alice"}
	bob      = identity.Principal{Tenant: "acme", Role: identity.RoleUser, User: "bob"}
	readOnly = identity.Principal{Tenant: "acme", Role: identity.RoleReadOnly, User: "rita"}
	admin    = identity.Principal{Tenant: "acme", Role: identity.RoleTenantAdmin, User: "ada"}
	globex   = identity.Principal{Tenant: "globex", Role: identity.RoleAdmin, User: "alice"}
)

// run calls a tool and returns its result as generic JSON.
func run(t *testing.T, reg *tools.Registry, p identity.Principal, name, args string) (map[string]any, error) {
	t.Helper()
	out, err := reg.Run(context.Background(), tools.Call{Principal: p}, name, json.RawMessage(args))
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(out)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, nil
}

func wantToolError(t *testing.T, err error, code string) {
	t.Helper()
	var te *tools.Error
	if !errors.As(err, &te) || te.Code != code {
		t.Fatalf("got %v, want tool error %s", err, code)
	}
}

func TestMemorySaveRecallDelete(t *testing.T) {
	reg, _ := memoryRegistry(t)
	out, err := run(t, reg, alice, "memory_save", `{"key": "editor", "content": "Alice uses Helix", "tags": ["pref"]}`)
	if err != nil || out["created"] != true || out["scope"] != "user" {
		t.Fatalf("save: %v %v", out, err)
	}
	if out, _ = run(t, reg, alice, "memory_save", `{"key": "editor", "content": "Alice uses Vim now"}`); out["created"] != false {
		t.Fatalf("re-save must update: %v", out)
	}
	if _, err := run(t, reg, admin, "memory_save", `{"key": "wifi", "content": "The office WiFi is called Acme-5G", "scope": "tenant"}`); err != nil {
		t.Fatal(err)
	}

	// Recall without a scope: the user's own memory and the tenant's.
	out, err = run(t, reg, alice, "memory_recall", `{"query": "VIM"}`)
	if err != nil || len(out["results"].([]any)) != 1 || !strings.Contains(out["results"].([]any)[0].(map[string]any)["content"].(string), "Vim now") {
		t.Fatalf("recall: %v %v", out, err)
	}
	if out, _ = run(t, reg, alice, "memory_recall", `{"query": "wifi"}`); len(out["results"].([]any)) != 1 {
		t.Fatalf("alice should find the tenant's entry: %v", out)
	}
	if out, _ = run(t, reg, alice, "memory_recall", `{"query": "wifi", "scope": "user"}`); len(out["results"].([]any)) != 0 {
		t.Fatalf("scope user must leave the tenant's out: %v", out)
	}

	if out, err = run(t, reg, alice, "memory_delete", `{"key": "editor"}`); err != nil || out["deleted"] != true {
		t.Fatalf("delete: %v %v", out, err)
	}
	if out, _ = run(t, reg, alice, "memory_list", `{}`); len(out["entries"].([]any)) != 1 {
		t.Fatalf("after delete only the tenant's entry is left: %v", out)
	}
}

func TestMemoryToolsIsolation(t *testing.T) {
	reg, db := memoryRegistry(t)
	saved, _ := run(t, reg, alice, "memory_save", `{"key": "secret", "content": "alice's diary"}`)
	id := saved["id"].(string)

	for _, c := range []struct {
		name string
		p    identity.Principal
	}{{"another user", bob}, {"another tenant", globex}} {
		t.Run(c.name, func(t *testing.T) {
			if out, _ := run(t, reg, c.p, "memory_recall", `{"query": "diary"}`); len(out["results"].([]any)) != 0 {
				t.Errorf("recall leaked: %v", out)
			}
			if out, _ := run(t, reg, c.p, "memory_list", `{}`); len(out["entries"].([]any)) != 0 {
				t.Errorf("list leaked: %v", out)
			}
			_, err := run(t, reg, c.p, "memory_delete", `{"id": "`+id+`"}`)
			wantToolError(t, err, "not_found")
			_, err = run(t, reg, c.p, "memory_delete", `{"key": "secret"}`)
			wantToolError(t, err, "not_found")
			// Saving the same key writes the caller's own entry, not alice's.
			run(t, reg, c.p, "memory_save", `{"key": "secret", "content": "overwritten?"}`)
		})
	}
	e, ok, err := db.GetMemory(context.Background(), "acme", id)
	if !ok || err != nil || e.Content != "alice's diary" {
		t.Fatalf("alice's entry changed: %+v %v %v", e, ok, err)
	}
}

func TestMemoryToolPermissions(t *testing.T) {
	reg, _ := memoryRegistry(t)
	// A user may not write the tenant scope; read-only may not run the writing tools at all.
	_, err := run(t, reg, alice, "memory_save", `{"content": "x", "scope": "tenant"}`)
	wantToolError(t, err, "not_permitted")
	_, err = run(t, reg, readOnly, "memory_save", `{"content": "x"}`)
	wantToolError(t, err, "not_permitted")
	_, err = run(t, reg, readOnly, "memory_delete", `{"key": "x"}`)
	wantToolError(t, err, "not_permitted")
	if _, err := run(t, reg, readOnly, "memory_recall", `{"query": "x"}`); err != nil {
		t.Fatalf("read-only may recall: %v", err)
	}
	// A tenant entry is readable by a user but not deletable.
	run(t, reg, admin, "memory_save", `{"key": "policy", "content": "be nice", "scope": "tenant"}`)
	_, err = run(t, reg, alice, "memory_delete", `{"key": "policy", "scope": "tenant"}`)
	wantToolError(t, err, "not_permitted")
	// No end user: the user scope is unavailable, the tenant scope still works.
	anon := identity.Principal{Tenant: "acme", Role: identity.RoleUser}
	_, err = run(t, reg, anon, "memory_save", `{"content": "x"}`)
	wantToolError(t, err, "no_user")
	if out, err := run(t, reg, anon, "memory_recall", `{"query": "nice"}`); err != nil || len(out["results"].([]any)) != 1 {
		t.Fatalf("anonymous recall of the tenant scope: %v %v", out, err)
	}
}

func TestMemoryToolsBadArguments(t *testing.T) {
	reg, _ := memoryRegistry(t)
	for _, c := range []struct{ tool, args string }{
		{"memory_save", `{}`},
		{"memory_save", `{"content": ""}`},
		{"memory_save", `{"content": "` + strings.Repeat("x", memory.MaxContent+1) + `"}`},
		{"memory_save", `{"content": "x", "tags": ["` + strings.Repeat("t", 65) + `"]}`},
		{"memory_save", `{"content": "x", "key": "bad\u0007key"}`},
		{"memory_save", `{"content": "x", "owner": "bob"}`},
		{"memory_recall", `{"query": "x", "limit": 21}`},
		{"memory_recall", `{"limit": 5}`},
		{"memory_list", `{"limit": 0}`},
		{"memory_delete", `{}`},
		{"memory_delete", `{"scope": "user"}`},
		{"memory_describe_scope", `{"scope": "user"}`},
	} {
		_, err := run(t, reg, alice, c.tool, c.args)
		var te *tools.Error
		if !errors.As(err, &te) || te.Code != "invalid_arguments" {
			t.Errorf("%s %.80s: got %v, want invalid_arguments", c.tool, c.args, err)
		}
	}
}

// TestAgentMemory: an agent's scope is its own across sessions and users, absent
// outside an agent's turns, and read-only tokens do not write it.
func TestAgentMemory(t *testing.T) {
	reg, _ := memoryRegistry(t)
	ctx := context.Background()
	as := func(p identity.Principal, agentName, session string) tools.Call {
		return tools.Call{Principal: p, Agent: agentName, Session: session}
	}
	if _, err := reg.Run(ctx, tools.Call{Principal: alice}, "memory_save", json.RawMessage(`{"content": "x", "scope": "agent"}`)); !isToolError(err, "no_agent") {
		t.Fatalf("agent scope outside an agent turn: %v", err)
	}
	if _, err := reg.Run(ctx, as(alice, "researcher", "s1"), "memory_save", json.RawMessage(`{"key": "style", "content": "cite sources", "scope": "agent"}`)); err != nil {
		t.Fatal(err)
	}
	out, err := reg.Run(ctx, as(bob, "researcher", "s2"), "memory_recall", json.RawMessage(`{"query": "cite"}`))
	if b, _ := json.Marshal(out); err != nil || !strings.Contains(string(b), "cite sources") {
		t.Fatalf("another session of the agent does not recall it: %s %v", b, err)
	}
	out, _ = reg.Run(ctx, as(bob, "writer", "s3"), "memory_recall", json.RawMessage(`{"query": "cite"}`))
	if b, _ := json.Marshal(out); strings.Contains(string(b), "cite sources") {
		t.Fatalf("another agent recalls it: %s", b)
	}
	if _, err := reg.Run(ctx, as(readOnly, "researcher", "s4"), "memory_save", json.RawMessage(`{"content": "y", "scope": "agent"}`)); !isToolError(err, "not_permitted") {
		t.Fatalf("read-only writes agent memory: %v", err)
	}
}

func isToolError(err error, code string) bool {
	var te *tools.Error
	return errors.As(err, &te) && te.Code == code
}

func TestMemoryDescribeScope(t *testing.T) {
	reg, _ := memoryRegistry(t)
	run(t, reg, alice, "memory_save", `{"key": "a", "content": "x"}`)
	run(t, reg, alice, "memory_save", `{"key": "b", "content": "x"}`)
	run(t, reg, bob, "memory_save", `{"key": "bobs", "content": "x"}`)
	run(t, reg, admin, "memory_save", `{"key": "shared", "content": "x", "scope": "tenant"}`)
	out, err := run(t, reg, alice, "memory_describe_scope", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out["scopes"])
	var scopes []struct {
		Scope              string
		Readable, Writable bool
		Count              int
		Keys               []string `json:"recent_keys"`
	}
	json.Unmarshal(b, &scopes)
	if len(scopes) != 2 {
		t.Fatalf("scopes %s", b)
	}
	u, ten := scopes[0], scopes[1]
	if u.Scope != "user" || u.Count != 2 || !u.Writable || len(u.Keys) != 2 || strings.Contains(string(b), "bobs") {
		t.Errorf("user scope: %+v (%s)", u, b)
	}
	if ten.Scope != "tenant" || ten.Count != 1 || !ten.Readable || ten.Writable || ten.Keys[0] != "shared" {
		t.Errorf("tenant scope: %+v", ten)
	}
}
