package tenant_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// reply is a decoded JSON answer: the fields the tests look at.
type reply struct {
	Status  int
	ID      string   `json:"id"`
	Key     string   `json:"key"`
	Scope   string   `json:"scope"`
	Agent   string   `json:"agent"`
	Name    string   `json:"name"`
	Content string   `json:"content"`
	Tags    []string `json:"tags"`
	Data    []reply  `json:"data"`
	Error   struct {
		Code  string  `json:"code"`
		Param *string `json:"param"`
	} `json:"error"`
}

// as calls the gateway with token and SPASS-User-Id user ("" sends none).
func as(t *testing.T, env *gatewaytest.Env, token, user, method, path, body string) reply {
	t.Helper()
	req := env.Request(t, method, path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if user == "" {
		req.Header.Del("SPASS-User-Id")
	} else {
		req.Header.Set("SPASS-User-Id", user)
	}
	resp := gatewaytest.Do(t, req)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{Status: resp.StatusCode}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return r
}

// want fails unless r has status (and, for errors, code).
func (r reply) want(t *testing.T, status int, code string) reply {
	t.Helper()
	if r.Status != status || r.Error.Code != code {
		t.Fatalf("got %d %q, want %d %q (%+v)", r.Status, r.Error.Code, status, code, r)
	}
	return r
}

const (
	admin    = gatewaytest.AdminToken    // acme, admin
	user     = gatewaytest.UserToken     // acme, user
	readOnly = gatewaytest.ReadOnlyToken // acme, read-only
	other    = gatewaytest.OtherToken    // globex, tenant_admin
)

func TestMemoryCRUD(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	e := as(t, env, user, "alice", "POST", "/v1/memory", `{"key": "editor", "content": "Alice uses Helix", "tags": ["pref"]}`).want(t, 201, "")
	if e.ID == "" || e.Scope != "user" || e.Key != "editor" || len(e.Tags) != 1 {
		t.Fatalf("created %+v", e)
	}
	again := as(t, env, user, "alice", "POST", "/v1/memory", `{"key": "editor", "content": "Alice uses Vim"}`).want(t, 200, "")
	if again.ID != e.ID || again.Content != "Alice uses Vim" || len(again.Tags) != 1 {
		t.Fatalf("upsert %+v", again)
	}
	time.Sleep(2 * time.Millisecond) // a later updated_at, for "newest first"
	gen := as(t, env, user, "alice", "POST", "/v1/memory", `{"content": "no key given"}`).want(t, 201, "")
	if gen.Key == "" {
		t.Fatal("no key generated")
	}
	if got := as(t, env, user, "alice", "GET", "/v1/memory/"+e.ID, "").want(t, 200, ""); got.Content != "Alice uses Vim" {
		t.Fatalf("get %+v", got)
	}
	if l := as(t, env, user, "alice", "GET", "/v1/memory?q=VIM", "").want(t, 200, ""); len(l.Data) != 1 || l.Data[0].ID != e.ID {
		t.Fatalf("search %+v", l)
	}
	if l := as(t, env, user, "alice", "GET", "/v1/memory?limit=1", "").want(t, 200, ""); len(l.Data) != 1 || l.Data[0].ID != gen.ID {
		t.Fatalf("newest first, limited: %+v", l)
	}
	up := as(t, env, user, "alice", "PUT", "/v1/memory/"+e.ID, `{"tags": ["a", "b"]}`).want(t, 200, "")
	if up.Content != "Alice uses Vim" || len(up.Tags) != 2 {
		t.Fatalf("tags-only update %+v", up)
	}
	as(t, env, user, "alice", "DELETE", "/v1/memory/"+e.ID, "").want(t, 200, "")
	as(t, env, user, "alice", "GET", "/v1/memory/"+e.ID, "").want(t, 404, "memory_not_found")
	as(t, env, user, "alice", "DELETE", "/v1/memory/"+e.ID, "").want(t, 404, "memory_not_found")
}

func TestMemoryRolesPerScope(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for _, c := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"user writes own", user, `{"content": "x"}`, 201, ""},
		{"admin writes own", admin, `{"content": "x"}`, 201, ""},
		{"read-only never writes", readOnly, `{"content": "x"}`, 403, "permission_denied"},
		{"user may not write tenant", user, `{"scope": "tenant", "content": "x"}`, 403, "permission_denied"},
		{"read-only may not write tenant", readOnly, `{"scope": "tenant", "content": "x"}`, 403, "permission_denied"},
		{"admin writes tenant", admin, `{"scope": "tenant", "key": "wifi", "content": "Acme-5G"}`, 201, ""},
		{"tenant_admin writes tenant", other, `{"scope": "tenant", "content": "globex"}`, 201, ""},
		{"user may not write agent", user, `{"scope": "agent", "agent": "planner", "content": "x"}`, 403, "permission_denied"},
		{"admin writes agent", admin, `{"scope": "agent", "agent": "planner", "key": "plan", "content": "step 1"}`, 201, ""},
		{"tenant_admin writes agent", other, `{"scope": "agent", "agent": "planner", "content": "x"}`, 201, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			as(t, env, c.token, "alice", "POST", "/v1/memory", c.body).want(t, c.status, c.code)
		})
	}
	// Every role reads the tenant and agent scopes.
	for _, tok := range []string{user, readOnly} {
		l := as(t, env, tok, "rita", "GET", "/v1/memory?scope=tenant", "").want(t, 200, "")
		if len(l.Data) != 1 || l.Data[0].Key != "wifi" {
			t.Fatalf("tenant scope for %s: %+v", tok, l)
		}
		l = as(t, env, tok, "rita", "GET", "/v1/memory?agent=planner", "").want(t, 200, "")
		if len(l.Data) != 1 || l.Data[0].Agent != "planner" || l.Data[0].Key != "plan" {
			t.Fatalf("agent scope for %s: %+v", tok, l)
		}
	}
	// A user reads the tenant's entry but may not change or delete it.
	wifi := as(t, env, user, "alice", "GET", "/v1/memory?scope=tenant", "").Data[0]
	as(t, env, user, "alice", "PUT", "/v1/memory/"+wifi.ID, `{"content": "hacked"}`).want(t, 403, "permission_denied")
	as(t, env, user, "alice", "DELETE", "/v1/memory/"+wifi.ID, "").want(t, 403, "permission_denied")
	as(t, env, readOnly, "alice", "DELETE", "/v1/memory/"+wifi.ID, "").want(t, 403, "permission_denied")
	if got := as(t, env, admin, "alice", "GET", "/v1/memory/"+wifi.ID, "").want(t, 200, ""); got.Content != "Acme-5G" {
		t.Fatalf("tenant entry changed: %+v", got)
	}
	as(t, env, admin, "alice", "PUT", "/v1/memory/"+wifi.ID, `{"content": "Acme-6G"}`).want(t, 200, "")
}

func TestMemoryCrossUserAndTenant(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	e := as(t, env, user, "alice", "POST", "/v1/memory", `{"key": "diary", "content": "alice's secret"}`).want(t, 201, "")
	for _, c := range []struct{ name, token, user string }{
		{"another user", user, "bob"},
		{"the admin as another user", admin, "carol"},
		{"another tenant, same user id", other, "alice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			as(t, env, c.token, c.user, "GET", "/v1/memory/"+e.ID, "").want(t, 404, "memory_not_found")
			as(t, env, c.token, c.user, "PUT", "/v1/memory/"+e.ID, `{"content": "overwritten"}`).want(t, 404, "memory_not_found")
			as(t, env, c.token, c.user, "DELETE", "/v1/memory/"+e.ID, "").want(t, 404, "memory_not_found")
			if l := as(t, env, c.token, c.user, "GET", "/v1/memory?q=secret", "").want(t, 200, ""); len(l.Data) != 0 {
				t.Fatalf("listing leaked: %+v", l.Data)
			}
			// The same key is the caller's own entry, not alice's.
			as(t, env, c.token, c.user, "POST", "/v1/memory", `{"key": "diary", "content": "mine"}`).want(t, 201, "")
		})
	}
	if got := as(t, env, user, "alice", "GET", "/v1/memory/"+e.ID, "").want(t, 200, ""); got.Content != "alice's secret" {
		t.Fatalf("alice's entry changed: %+v", got)
	}
}

func TestMemoryValidation(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	e := as(t, env, user, "alice", "POST", "/v1/memory", `{"content": "x"}`).want(t, 201, "")
	big := strings.Repeat("x", 16<<10+1)
	for _, c := range []struct {
		name, method, path, body, userID string
		status                           int
		code, param                      string
	}{
		{"no content", "POST", "/v1/memory", `{"key": "k"}`, "alice", 400, "invalid_request", "content"},
		{"content too large", "POST", "/v1/memory", `{"content": "` + big + `"}`, "alice", 400, "invalid_request", "content"},
		{"too many tags", "POST", "/v1/memory", `{"content": "x", "tags": ["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]}`, "alice", 400, "invalid_request", "tags"},
		{"bad scope", "POST", "/v1/memory", `{"scope": "global", "content": "x"}`, "alice", 400, "invalid_request", "scope"},
		{"agent scope without agent", "POST", "/v1/memory", `{"scope": "agent", "content": "x"}`, "alice", 400, "invalid_request", "agent"},
		{"agent with user scope", "POST", "/v1/memory", `{"agent": "planner", "content": "x"}`, "alice", 400, "invalid_request", "agent"},
		{"user_id in body", "POST", "/v1/memory", `{"content": "x", "user_id": "bob"}`, "alice", 400, "user_id_not_allowed", "user_id"},
		{"not JSON", "POST", "/v1/memory", `{"content": `, "alice", 400, "invalid_json", ""},
		{"no user header", "POST", "/v1/memory", `{"content": "x"}`, "", 400, "missing_user_header", "SPASS-User-Id"},
		{"user_id in query", "GET", "/v1/memory?user_id=bob", "", "alice", 400, "user_id_not_allowed", "user_id"},
		{"bad limit", "GET", "/v1/memory?limit=0", "", "alice", 400, "invalid_query", "limit"},
		{"bad query scope", "GET", "/v1/memory?scope=everything", "", "alice", 400, "invalid_query", "scope"},
		{"empty update", "PUT", "/v1/memory/" + e.ID, `{}`, "alice", 400, "missing_parameter", "content"},
		{"empty content update", "PUT", "/v1/memory/" + e.ID, `{"content": " "}`, "alice", 400, "invalid_request", "content"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := as(t, env, user, c.userID, c.method, c.path, c.body).want(t, c.status, c.code)
			if c.param != "" && (r.Error.Param == nil || *r.Error.Param != c.param) {
				t.Fatalf("param %v, want %s", r.Error.Param, c.param)
			}
		})
	}
	if l := as(t, env, user, "alice", "GET", "/v1/memory", "").want(t, 200, ""); len(l.Data) != 1 || l.Data[0].Content != "x" {
		t.Fatalf("a refused request changed memory: %+v", l.Data)
	}
	if resp := gatewaytest.Do(t, env.Request(t, "PATCH", "/v1/memory/"+e.ID, "{}")); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d", resp.StatusCode)
	}
}
