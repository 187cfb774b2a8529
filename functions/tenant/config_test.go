package tenant_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

type item struct {
	Value  any    `json:"value"`
	Source string `json:"source"`
}

type configView struct {
	Tenant string          `json:"tenant"`
	Config map[string]item `json:"config"`
}

func call(t *testing.T, env *gatewaytest.Env, token, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req := env.Request(t, method, path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	resp := gatewaytest.Do(t, req)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func getConfig(t *testing.T, env *gatewaytest.Env, token string) configView {
	t.Helper()
	resp, b := call(t, env, token, "GET", "/v1/tenant/config", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET config: %d %s", resp.StatusCode, b)
	}
	var v configView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func startCascade(t *testing.T) *gatewaytest.Env {
	return gatewaytest.Start(t, gatewaytest.Setup{
		Env:          map[string]string{"SPASS_BILLING_MARKUP_PERCENT": "5", "SPASS_CACHE_TTL_SECONDS": "60"},
		AcmeDefaults: "{billing.markup_percent: 10, models.blacklist: [sim-vision]}",
	})
}

func TestCascadePrecedenceAndFallbackOnDelete(t *testing.T) {
	env := startCascade(t)
	want := func(v configView, key string, value any, source string) {
		t.Helper()
		got := v.Config[key]
		if gotJSON, _ := json.Marshal(got.Value); string(gotJSON) != mustJSON(value) || got.Source != source {
			t.Errorf("%s = %v from %s, want %v from %s", key, got.Value, got.Source, value, source)
		}
	}
	v := getConfig(t, env, gatewaytest.AdminToken)
	want(v, "billing.markup_percent", 10, "gateway.yaml")
	want(v, "cache.ttl_seconds", 60, "env")
	want(v, "compaction.keep_last_turns", 4, "default")
	want(getConfig(t, env, gatewaytest.OtherToken), "billing.markup_percent", 5, "env")

	resp, b := call(t, env, gatewaytest.AdminToken, "PUT", "/v1/tenant/config", `{"billing.markup_percent": 15, "cache.ttl_seconds": 30}`)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT %d %s", resp.StatusCode, b)
	}
	v = getConfig(t, env, gatewaytest.AdminToken)
	want(v, "billing.markup_percent", 15, "tenant")
	want(v, "cache.ttl_seconds", 30, "tenant")

	if resp, b := call(t, env, gatewaytest.AdminToken, "DELETE", "/v1/tenant/config/billing.markup_percent", ""); resp.StatusCode != 200 {
		t.Fatalf("DELETE key %d %s", resp.StatusCode, b)
	}
	v = getConfig(t, env, gatewaytest.AdminToken)
	want(v, "billing.markup_percent", 10, "gateway.yaml")
	want(v, "cache.ttl_seconds", 30, "tenant")
	call(t, env, gatewaytest.AdminToken, "DELETE", "/v1/tenant/config", "")
	want(getConfig(t, env, gatewaytest.AdminToken), "cache.ttl_seconds", 60, "env")
}

func TestConfigWritesNeedAdminRoles(t *testing.T) {
	env := startCascade(t)
	for _, tok := range []string{gatewaytest.UserToken, gatewaytest.ReadOnlyToken} {
		for _, m := range []struct{ method, path, body string }{
			{"PUT", "/v1/tenant/config", `{"cache.enabled": true}`},
			{"DELETE", "/v1/tenant/config", ""},
			{"DELETE", "/v1/tenant/config/cache.enabled", ""},
		} {
			resp, b := call(t, env, tok, m.method, m.path, m.body)
			if resp.StatusCode != 403 || !strings.Contains(string(b), "permission_denied") {
				t.Errorf("%s %s with %s: %d %s", m.method, m.path, tok, resp.StatusCode, b)
			}
		}
		getConfig(t, env, tok) // reading is allowed
	}
	if resp, _ := call(t, env, gatewaytest.OtherToken, "PUT", "/v1/tenant/config", `{"cache.enabled": true}`); resp.StatusCode != 200 {
		t.Errorf("tenant_admin write: %d", resp.StatusCode)
	}
}

func TestBadSettingsStoreNothing(t *testing.T) {
	env := startCascade(t)
	cases := []struct{ body, code, param string }{
		{`{"no.such.key": 1}`, "unknown_setting", "no.such.key"},
		{`{"cache.enabled": true, "billing.markup_percent": -3}`, "invalid_setting", "billing.markup_percent"},
		{`{"compaction.keep_last_turns": 2.5}`, "invalid_setting", "compaction.keep_last_turns"},
		{`{"models.allowlist": "sim-chat"}`, "invalid_setting", "models.allowlist"},
		{`{"image_gen.size": "big"}`, "invalid_setting", "image_gen.size"},
		{`[1,2]`, "invalid_json", ""},
		{`{}`, "invalid_request", ""},
	}
	for _, tc := range cases {
		resp, b := call(t, env, gatewaytest.AdminToken, "PUT", "/v1/tenant/config", tc.body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"code":"`+tc.code+`"`) || !strings.Contains(string(b), tc.param) {
			t.Errorf("%s: %d %s", tc.body, resp.StatusCode, b)
		}
	}
	if resp, b := call(t, env, gatewaytest.AdminToken, "DELETE", "/v1/tenant/config/no.such.key", ""); resp.StatusCode != 400 {
		t.Errorf("delete unknown key: %d %s", resp.StatusCode, b)
	}
	v := getConfig(t, env, gatewaytest.AdminToken)
	for k, it := range v.Config {
		if it.Source == "tenant" {
			t.Errorf("%s was stored from a refused request", k)
		}
	}
}

func TestTenantsCannotSeeEachOthersConfig(t *testing.T) {
	env := startCascade(t)
	call(t, env, gatewaytest.AdminToken, "PUT", "/v1/tenant/config", `{"models.allowlist": ["sim-chat"]}`)
	call(t, env, gatewaytest.OtherToken, "PUT", "/v1/tenant/config?tenant=acme", `{"cache.enabled": true}`)
	call(t, env, gatewaytest.OtherToken, "DELETE", "/v1/tenant/config/models.allowlist?tenant=acme", "")
	acme, globex := getConfig(t, env, gatewaytest.AdminToken), getConfig(t, env, gatewaytest.OtherToken)
	if acme.Tenant != "acme" || acme.Config["models.allowlist"].Source != "tenant" || acme.Config["cache.enabled"].Source != "default" {
		t.Errorf("acme changed by globex: %+v", acme.Config)
	}
	if globex.Tenant != "globex" || globex.Config["models.allowlist"].Source != "default" || globex.Config["cache.enabled"].Value != true {
		t.Errorf("globex sees acme's settings or lost its own: %+v", globex.Config)
	}
}

func TestModelPolicyEnforced(t *testing.T) {
	env := startCascade(t) // acme's gateway.yaml blacklists sim-vision
	chat := func(token, model string) int {
		resp, _ := call(t, env, token, "POST", "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
		return resp.StatusCode
	}
	if got := chat(gatewaytest.AdminToken, "sim-vision"); got != 403 {
		t.Errorf("blacklisted model: %d", got)
	}
	if got := chat(gatewaytest.OtherToken, "sim-vision"); got != 200 {
		t.Errorf("globex is not blacklisted: %d", got)
	}
	call(t, env, gatewaytest.AdminToken, "PUT", "/v1/tenant/config", `{"models.allowlist": ["sim-embed"]}`)
	if got := chat(gatewaytest.AdminToken, "sim-chat"); got != 403 {
		t.Errorf("model outside the allowlist: %d", got)
	}
	resp, b := call(t, env, gatewaytest.AdminToken, "POST", "/v1/embeddings", `{"model":"sim-embed","input":"x"}`)
	if resp.StatusCode != 200 {
		t.Errorf("allowlisted embeddings: %d %s", resp.StatusCode, b)
	}
	_, b = call(t, env, gatewaytest.AdminToken, "GET", "/v1/models", "")
	if strings.Contains(string(b), "sim-chat") || !strings.Contains(string(b), "sim-embed") {
		t.Errorf("/v1/models ignores the policy: %s", b)
	}
	if n := env.Sims["sim"].Requests(); n != 2 {
		t.Errorf("%d requests reached the backend, want 2 (refused ones must not)", n)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
