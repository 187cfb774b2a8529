package tenant_test

import (
	"context"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

func TestSystemPromptsCRUD(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	sp := as(t, env, user, "alice", "POST", "/v1/system-prompts", `{"name": "support", "content": "Be terse."}`).want(t, 201, "")
	if sp.Name != "support" || sp.Scope != "user" || sp.Content != "Be terse." {
		t.Fatalf("created %+v", sp)
	}
	as(t, env, user, "alice", "POST", "/v1/system-prompts", `{"name": "support", "content": "Be very terse."}`).want(t, 200, "")
	as(t, env, admin, "alice", "POST", "/v1/system-prompts", `{"name": "support", "scope": "tenant", "content": "Be kind."}`).want(t, 201, "")

	l := as(t, env, user, "alice", "GET", "/v1/system-prompts", "").want(t, 200, "")
	if len(l.Data) != 2 || l.Data[0].Scope != "tenant" || l.Data[1].Scope != "user" {
		t.Fatalf("list %+v", l.Data)
	}
	// Without a scope GET answers what a chat request would use: the user's own.
	if got := as(t, env, user, "alice", "GET", "/v1/system-prompts/support", "").want(t, 200, ""); got.Content != "Be very terse." || got.Scope != "user" {
		t.Fatalf("resolved %+v", got)
	}
	if got := as(t, env, user, "alice", "GET", "/v1/system-prompts/support?scope=tenant", "").want(t, 200, ""); got.Content != "Be kind." {
		t.Fatalf("tenant's %+v", got)
	}
	text, ok, err := env.App.Store.ResolveSystemPrompt(context.Background(), "acme", "alice", "support")
	if !ok || err != nil || text != "Be very terse." {
		t.Fatalf("resolver: %q %v %v", text, ok, err)
	}
	as(t, env, user, "alice", "PUT", "/v1/system-prompts/support", `{"content": "One line."}`).want(t, 200, "")
	as(t, env, user, "alice", "PUT", "/v1/system-prompts/nothing", `{"content": "x"}`).want(t, 404, "system_prompt_not_found")
	as(t, env, user, "alice", "DELETE", "/v1/system-prompts/support", "").want(t, 200, "")
	// With her own gone, alice gets the tenant's.
	if got := as(t, env, user, "alice", "GET", "/v1/system-prompts/support", "").want(t, 200, ""); got.Scope != "tenant" {
		t.Fatalf("after delete %+v", got)
	}
	as(t, env, user, "alice", "GET", "/v1/system-prompts/support?scope=user", "").want(t, 404, "system_prompt_not_found")
}

func TestSystemPromptRoles(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for _, c := range []struct {
		name, token, path, method, body string
		status                          int
		code                            string
	}{
		{"user may not create a tenant prompt", user, "/v1/system-prompts", "POST", `{"name": "p", "scope": "tenant", "content": "x"}`, 403, "permission_denied"},
		{"read-only may not create its own", readOnly, "/v1/system-prompts", "POST", `{"name": "p", "content": "x"}`, 403, "permission_denied"},
		{"admin creates a tenant prompt", admin, "/v1/system-prompts", "POST", `{"name": "house", "scope": "tenant", "content": "House style."}`, 201, ""},
		{"tenant_admin creates a tenant prompt", other, "/v1/system-prompts", "POST", `{"name": "house", "scope": "tenant", "content": "Globex style."}`, 201, ""},
		{"user may not change the tenant's", user, "/v1/system-prompts/house?scope=tenant", "PUT", `{"content": "hacked"}`, 403, "permission_denied"},
		{"user may not delete the tenant's", user, "/v1/system-prompts/house?scope=tenant", "DELETE", "", 403, "permission_denied"},
		{"read-only may not delete", readOnly, "/v1/system-prompts/house?scope=tenant", "DELETE", "", 403, "permission_denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			as(t, env, c.token, "alice", c.method, c.path, c.body).want(t, c.status, c.code)
		})
	}
	for _, tok := range []string{user, readOnly} {
		if got := as(t, env, tok, "rita", "GET", "/v1/system-prompts/house", "").want(t, 200, ""); got.Content != "House style." {
			t.Fatalf("%s reads the tenant's prompt: %+v", tok, got)
		}
	}
}

func TestSystemPromptsCrossUserAndTenant(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	as(t, env, user, "alice", "POST", "/v1/system-prompts", `{"name": "mine", "content": "Alice's voice."}`).want(t, 201, "")
	for _, c := range []struct{ name, token, user string }{
		{"another user", user, "bob"},
		{"the admin as another user", admin, "carol"},
		{"another tenant, same user id", other, "alice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			as(t, env, c.token, c.user, "GET", "/v1/system-prompts/mine", "").want(t, 404, "system_prompt_not_found")
			as(t, env, c.token, c.user, "PUT", "/v1/system-prompts/mine", `{"content": "overwritten"}`).want(t, 404, "system_prompt_not_found")
			as(t, env, c.token, c.user, "DELETE", "/v1/system-prompts/mine", "").want(t, 404, "system_prompt_not_found")
			if l := as(t, env, c.token, c.user, "GET", "/v1/system-prompts", "").want(t, 200, ""); len(l.Data) != 0 {
				t.Fatalf("listing leaked: %+v", l.Data)
			}
		})
	}
	if got := as(t, env, user, "alice", "GET", "/v1/system-prompts/mine", "").want(t, 200, ""); got.Content != "Alice's voice." {
		t.Fatalf("alice's prompt changed: %+v", got)
	}
	if _, ok, _ := env.App.Store.ResolveSystemPrompt(context.Background(), "globex", "alice", "mine"); ok {
		t.Fatal("another tenant resolves alice's prompt")
	}
}

func TestSystemPromptValidation(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code, param              string
	}{
		{"upper-case name", "POST", "/v1/system-prompts", `{"name": "Support", "content": "x"}`, 400, "invalid_request", "name"},
		{"name with a slash", "POST", "/v1/system-prompts", `{"name": "a/b", "content": "x"}`, 400, "invalid_request", "name"},
		{"no name", "POST", "/v1/system-prompts", `{"content": "x"}`, 400, "invalid_request", "name"},
		{"no content", "POST", "/v1/system-prompts", `{"name": "p"}`, 400, "missing_parameter", "content"},
		{"content over 32 KiB", "POST", "/v1/system-prompts", `{"name": "p", "content": "` + strings.Repeat("x", 32<<10+1) + `"}`, 400, "invalid_request", "content"},
		{"bad scope", "POST", "/v1/system-prompts", `{"name": "p", "scope": "global", "content": "x"}`, 400, "invalid_request", "scope"},
		{"bad query scope", "DELETE", "/v1/system-prompts/p?scope=global", "", 400, "invalid_query", "scope"},
		{"user_id in body", "POST", "/v1/system-prompts", `{"name": "p", "content": "x", "user_id": "bob"}`, 400, "user_id_not_allowed", "user_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := as(t, env, admin, "alice", c.method, c.path, c.body).want(t, c.status, c.code)
			if r.Error.Param == nil || *r.Error.Param != c.param {
				t.Fatalf("param %v, want %s", r.Error.Param, c.param)
			}
		})
	}
	as(t, env, admin, "", "GET", "/v1/system-prompts", "").want(t, 400, "missing_user_header")
	if l := as(t, env, admin, "alice", "GET", "/v1/system-prompts", "").want(t, 200, ""); len(l.Data) != 0 {
		t.Fatalf("a refused request stored a prompt: %+v", l.Data)
	}
}
