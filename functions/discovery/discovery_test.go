package discovery_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"spass/functions/discovery"
	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/apierr"
)

const twoTiers = `
backends:
  - {name: a, kind: simulator, base_url: "{{a}}", api_key_env: SECRET_NEVER_SET}
  - {name: b, kind: simulator, base_url: "{{b}}"}
models:
  - {id: sim-chat, chain: [{backend: a}, {backend: b}]}
`

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestHealthz(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	resp, body := get(t, env.URL+"/healthz")
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestReadyz(t *testing.T) {
	cases := []struct {
		name     string
		faultA   simulator.Fault
		faultB   simulator.Fault
		status   string
		httpCode int
		reasons  []string
	}{
		{"all up", simulator.FaultNone, simulator.FaultNone, "ok", 200, nil},
		{"tier 1 down", simulator.FaultDown, simulator.FaultNone, "degraded", 200, []string{discovery.ReasonBackendDown, discovery.ReasonFallbackActive}},
		{"everything down", simulator.FaultDown, simulator.Fault500, "critical", 503, []string{discovery.ReasonBackendDown, discovery.ReasonModelUnavailable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"a", "b"}, YAML: twoTiers})
			env.Sims["a"].SetFault(tc.faultA)
			env.Sims["b"].SetFault(tc.faultB)
			resp, body := get(t, env.URL+"/readyz")
			var rd discovery.Readiness
			if err := json.Unmarshal(body, &rd); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.httpCode || rd.Status != tc.status || rd.Ready != (tc.status != "critical") {
				t.Fatalf("got %d %+v", resp.StatusCode, rd)
			}
			if strings.Join(rd.DegradedReasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("reasons %v, want %v", rd.DegradedReasons, tc.reasons)
			}
			if _, err := time.Parse(time.RFC3339, rd.CheckedAt); err != nil {
				t.Errorf("checked_at %q", rd.CheckedAt)
			}
			for _, leak := range []string{"127.0.0.1", env.SimURLs["a"], `"a"`, "sim-chat", "SECRET"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("/readyz leaks %q: %s", leak, body)
				}
			}
		})
	}
}

// TestDocsWithTrailingSlash: /docs/ answered 404 while /docs worked (issue 10).
func TestDocsWithTrailingSlash(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	resp, body := get(t, env.URL+"/docs/")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/docs" || !strings.Contains(string(body), "quickstart") {
		t.Fatalf("GET /docs/ ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
}

func TestErrorsCatalog(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	_, body := get(t, env.URL+"/errors")
	var got struct {
		Data []apierr.Entry `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := apierr.Catalog()
	if len(got.Data) != len(want) {
		t.Fatalf("%d entries, want %d", len(got.Data), len(want))
	}
	for i := range want {
		if got.Data[i] != want[i] {
			t.Errorf("entry %d: %+v != %+v", i, got.Data[i], want[i])
		}
	}
}

func TestMetricsCountRequests(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	req := env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}`)
	if resp := gatewaytest.Do(t, req); resp.StatusCode != 200 {
		t.Fatalf("chat %d", resp.StatusCode)
	}
	metrics, _ := http.NewRequest("GET", env.URL+"/metrics", nil)
	metrics.Header.Set("Authorization", "Bearer "+gatewaytest.MetricsToken)
	resp := gatewaytest.Do(t, metrics)
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`spass_requests_total{backend="sim",model="sim-chat",route="POST /v1/chat/completions",status="200"} 1`,
		`spass_request_duration_seconds_count{backend="sim",model="sim-chat",route="POST /v1/chat/completions",status="200"} 1`,
		`spass_backend_breaker_state{backend="sim"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), gatewaytest.AdminToken) {
		t.Error("a token reached /metrics")
	}
}

// TestReadyzProbesADeadRedisOnce: /readyz needs no token, so polling it must not
// make the gateway wait on a Redis that does not answer once per call. A Redis that
// accepts connections and never replies is asked once; the failure is remembered.
func TestReadyzProbesADeadRedisOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close() // held open, never answered
		}
	}()
	env := gatewaytest.Start(t, gatewaytest.Setup{Env: map[string]string{"REDIS_URL": "redis://" + ln.Addr().String() + "/0"},
		Routing: "routing: {health_ttl: 1h}\n"})
	for range 20 {
		_, body := get(t, env.URL+"/readyz")
		if !strings.Contains(string(body), discovery.ReasonQueueUnavailable) {
			t.Fatalf("readyz %s", body)
		}
	}
	if n := accepted.Load(); n > 2 {
		t.Fatalf("20 probes opened %d connections to the dead Redis", n)
	}
}
