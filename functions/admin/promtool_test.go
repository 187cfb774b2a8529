package admin_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"spass/local/gatewaytest"
)

// TestMetricsPassPromtool runs Prometheus's own linter on /metrics after traffic
// has filled every family (requests, tokens, cost, breaker state).
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool (Debian package prometheus) is required in CI")
		}
		t.Skip("promtool not installed: apt-get install prometheus")
	}
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"a"}]}`))
	gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-embed","input":"a"}`))
	env.Ledger(t, "acme") // token and cost counters follow the ledger's commits
	_, body := get(t, env, "/metrics", bearer(gatewaytest.MetricsToken))
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewBufferString(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, want := range []string{"spass_tokens_total", "spass_cost_usd_total", "spass_cost_eur_total", "spass_request_cost_usd", "spass_backend_breaker_state"} {
		if !bytes.Contains([]byte(body), []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
