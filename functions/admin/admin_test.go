package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/metrics"
)

const redisURL = "redis://127.0.0.1:6379/4"

func get(t *testing.T, env *gatewaytest.Env, path string, set func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", env.URL+path, nil)
	if set != nil {
		set(req)
	}
	resp := gatewaytest.Do(t, req)
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func TestStatsz(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for i := 0; i < 3; i++ {
		gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"a b"}]}`))
	}
	gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[]}`))
	_, body := get(t, env, "/statsz", bearer(gatewaytest.OperatorToken))
	var s struct {
		Models   map[string]metrics.ModelStats
		Backends map[string]struct{ Breaker string }
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	chat := s.Models["sim-chat"]
	if chat.Requests != 3 || chat.PromptTokens == 0 || chat.CompletionTokens == 0 {
		t.Errorf("sim-chat stats %+v", chat)
	}
	if _, ok := s.Models["sim-embed"]; !ok || s.Backends["sim"].Breaker != "closed" {
		t.Errorf("statsz %s", body)
	}
}

func TestQueueMonitorWithoutRedis(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	resp, body := get(t, env, "/admin/queues/", bearer(gatewaytest.OperatorToken))
	if resp.StatusCode != 501 || !strings.Contains(body, "not_configured") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestQueueMonitorIsOperatorOnly: the monitor shows and changes every tenant's
// jobs, so no tenant token opens it, not even a tenant's admin (issue 11, item 6).
func TestQueueMonitorIsOperatorOnly(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Env: map[string]string{"REDIS_URL": redisURL}})
	cases := []struct {
		name   string
		set    func(*http.Request)
		status int
	}{
		{"no credentials", nil, 401},
		{"user role", bearer(gatewaytest.UserToken), 403},
		{"tenant admin", bearer(gatewaytest.AdminToken), 403},
		{"tenant admin via basic auth", func(r *http.Request) { r.SetBasicAuth("admin", gatewaytest.AdminToken) }, 403},
		{"tenant_admin of another tenant", bearer(gatewaytest.OtherToken), 403},
		{"metrics token", bearer(gatewaytest.MetricsToken), 403},
		{"wrong basic password", func(r *http.Request) { r.SetBasicAuth("x", "nope") }, 401},
		{"operator bearer", bearer(gatewaytest.OperatorToken), 200},
		{"operator via basic auth", func(r *http.Request) { r.SetBasicAuth("ops", gatewaytest.OperatorToken) }, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, env, "/admin/queues/", tc.set)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %.200s", resp.StatusCode, body)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("a 401 must invite the browser's login prompt")
			}
			if tc.status == 200 && !strings.Contains(strings.ToLower(body), "<html") {
				t.Errorf("not the asynqmon page: %.200s", body)
			}
		})
	}
	resp, body := get(t, env, "/admin/queues/api/queues", bearer(gatewaytest.OperatorToken))
	if resp.StatusCode != 200 || !strings.Contains(body, "queues") {
		t.Fatalf("asynqmon API: %d %.200s", resp.StatusCode, body)
	}
	if _, metrics := get(t, env, "/metrics", bearer(gatewaytest.MetricsToken)); !strings.Contains(metrics, `spass_queue_depth{queue="billing"}`) {
		t.Error("/metrics lacks the queue depth")
	}
}

// TestUnknownModelsAddNoMetricSeries: model names come from clients, so a name
// the gateway does not serve must not become a label (unbounded series).
func TestUnknownModelsAddNoMetricSeries(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for i := 0; i < 3; i++ {
		resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions",
			fmt.Sprintf(`{"model":"made-up-%d","messages":[{"role":"user","content":"a"}]}`, i)))
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown model: status %d", resp.StatusCode)
		}
	}
	_, body := get(t, env, "/metrics", bearer(gatewaytest.MetricsToken))
	if strings.Contains(body, "made-up-") {
		t.Fatal("/metrics labels series with model names the gateway does not serve")
	}
	if !strings.Contains(body, `status="404"`) {
		t.Fatal("/metrics does not count the refused requests")
	}
}
