package admin_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"spass/local/gatewaytest"
	"spass/local/redistest"
)

// TestOperatorViewsNeedAnOperatorToken reproduces issue 11, item 4: /metrics showed
// tenant ids and per-tenant spend to anyone, and an anonymous /statsz made the
// gateway commit its ledger. Now both answer only an operator's or a scraper's
// token; a tenant's token, admin included, gets 403, and the probes stay public
// without a word about tenants.
func TestOperatorViewsNeedAnOperatorToken(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	if resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"a b"}]}`)); resp.StatusCode != 200 {
		t.Fatalf("chat: %d", resp.StatusCode)
	}
	env.Ledger(t, "acme") // the spend is committed, so /metrics would show it
	for _, path := range []string{"/metrics", "/statsz"} {
		cases := []struct {
			name   string
			set    func(*http.Request)
			status int
			code   string
		}{
			{"anonymous", nil, 401, "missing_api_key"},
			{"unknown token", bearer("sk-nope"), 401, "invalid_api_key"},
			{"tenant admin", bearer(gatewaytest.AdminToken), 403, "permission_denied"},
			{"tenant user", bearer(gatewaytest.UserToken), 403, "permission_denied"},
			{"tenant admin via basic auth", func(r *http.Request) { r.SetBasicAuth("x", gatewaytest.AdminToken) }, 401, "missing_api_key"},
			{"metrics token", bearer(gatewaytest.MetricsToken), 200, ""},
			{"operator token", bearer(gatewaytest.OperatorToken), 200, ""},
		}
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				resp, body := get(t, env, path, tc.set)
				if resp.StatusCode != tc.status {
					t.Fatalf("%d %.300s", resp.StatusCode, body)
				}
				if tc.status != 200 {
					if !strings.Contains(body, `"code":"`+tc.code+`"`) || strings.Contains(body, "acme") || strings.Contains(body, "sim-chat") {
						t.Fatalf("refusal %s", body)
					}
					return
				}
				if path == "/metrics" && !strings.Contains(body, `tenant="acme"`) {
					t.Errorf("the operator's /metrics lacks the tenant's spend: %.300s", body)
				}
			})
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := get(t, env, path, nil)
		if resp.StatusCode != 200 || strings.Contains(body, "acme") || strings.Contains(body, "sim") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// The anonymous /statsz calls above ended at the token check (401), before the
	// handler that commits the ledger; the metrics count them as such.
	_, metrics := get(t, env, "/metrics", bearer(gatewaytest.OperatorToken))
	if !strings.Contains(metrics, `spass_requests_total{backend="",model="",route="GET /statsz",status="401"} 3`) {
		t.Errorf("anonymous /statsz calls are not counted as 401s")
	}
}

// TestOperatorTokensOpenNoTenantRoute: an operator token belongs to no tenant, so it
// cannot chat, read a tenant's settings or its usage.
func TestOperatorTokensOpenNoTenantRoute(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for _, tok := range []string{gatewaytest.OperatorToken, gatewaytest.MetricsToken} {
		for _, path := range []string{"/v1/models", "/v1/tenant/config", "/v1/billing/usage"} {
			resp, body := get(t, env, path, bearer(tok))
			if resp.StatusCode != 401 || !strings.Contains(body, "invalid_api_key") {
				t.Errorf("%s with an operator's token: %d %s", path, resp.StatusCode, body)
			}
		}
	}
}

// TestQueueMonitorRefusesCrossSiteWrites reproduces issue 11, item 6: the monitor
// accepts HTTP Basic auth, which a browser sends along with a form posted from any
// site. A cross-site POST that would pause a queue is refused and changes nothing;
// the monitor's own (same-origin) requests and scripts without browser headers
// still work.
func TestQueueMonitorRefusesCrossSiteWrites(t *testing.T) {
	redistest.Open(t, 4)
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask("noop", nil), asynq.Queue("default")); err != nil {
		t.Fatal(err)
	}
	env := gatewaytest.Start(t, gatewaytest.Setup{Env: map[string]string{"REDIS_URL": redisURL}})
	pause := func(set func(*http.Request)) (int, string) {
		req, _ := http.NewRequest("POST", env.URL+"/admin/queues/api/queues/default:pause", strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("ops", gatewaytest.OperatorToken)
		set(req)
		resp, body := do(t, req)
		return resp.StatusCode, body
	}
	paused := func() bool {
		_, body := get(t, env, "/admin/queues/api/queues/default", bearer(gatewaytest.OperatorToken))
		return strings.Contains(body, `"paused":true`)
	}
	for name, set := range map[string]func(*http.Request){
		"cross-site form": func(r *http.Request) {
			r.Header.Set("Origin", "https://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		},
		"foreign origin, no fetch metadata": func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
		"same-site but another origin":      func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") },
	} {
		if status, body := pause(set); status != 403 || !strings.Contains(body, "permission_denied") {
			t.Errorf("%s: %d %s", name, status, body)
		}
		if paused() {
			t.Fatalf("%s paused the queue", name)
		}
	}
	if status, body := pause(func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-origin") }); status >= 300 || !paused() {
		t.Fatalf("the monitor's own request: %d %s", status, body)
	}
	req, _ := http.NewRequest("POST", env.URL+"/admin/queues/api/queues/default:resume", nil)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.OperatorToken)
	if resp, body := do(t, req); resp.StatusCode >= 300 || paused() {
		t.Fatalf("a script's request with a bearer token: %d %s", resp.StatusCode, body)
	}
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp := gatewaytest.Do(t, req)
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
