package router_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/chat"
)

// replicasYAML serves sim-chat from two simulators in one tier: replicas.
const replicasYAML = `
backends:
  - {name: a, kind: simulator, base_url: "{{a}}", tier: 1}
  - {name: b, kind: simulator, base_url: "{{b}}", tier: 1}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: a}, {backend: b}]}
`

// replicas starts a gateway over two replicas with the given routing: section.
func replicas(t *testing.T, routing string, o simulator.Options) *gatewaytest.Env {
	t.Helper()
	return gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"a", "b"}, YAML: replicasYAML, SimOptions: o,
		Routing: "routing: {first_byte_timeout: 2s, response_timeout: 2s, breaker_failures: 1, breaker_cooldown: 1h, " + routing + "}\n"})
}

// chatTurn sends messages (JSON array text) and returns the backend that served.
func chatTurn(t *testing.T, e *gatewaytest.Env, messages, extra string) string {
	t.Helper()
	resp := gatewaytest.Do(t, e.Request(t, "POST", "/v1/chat/completions",
		`{"model":"sim-chat","messages":`+messages+extra+`}`))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return resp.Header.Get(chat.HeaderBackend)
}

// conversation returns turn n's messages of conversation c: a system prompt and
// the first question that every turn repeats, then n-1 more exchanges.
func conversation(c, n int) string {
	msgs := []string{fmt.Sprintf(`{"role":"system","content":"You are assistant number %d."}`, c),
		fmt.Sprintf(`{"role":"user","content":"Question %d of conversation %d"}`, 0, c)}
	for i := 1; i < n; i++ {
		msgs = append(msgs, fmt.Sprintf(`{"role":"assistant","content":"Answer %d"}`, i),
			fmt.Sprintf(`{"role":"user","content":"Question %d of conversation %d"}`, i, c))
	}
	return "[" + strings.Join(msgs, ",") + "]"
}

func TestAffinityKeepsConversationsOnOneReplica(t *testing.T) {
	e := replicas(t, "probe_share: -1", simulator.Options{})
	home := map[int]string{}
	served := map[string]int{}
	for turn := 1; turn <= 3; turn++ {
		for c := range 20 {
			b := chatTurn(t, e, conversation(c, turn), "")
			if home[c] == "" {
				home[c] = b
			} else if home[c] != b {
				t.Errorf("conversation %d: turn %d served by %s, earlier turns by %s", c, turn, b, home[c])
			}
			served[b]++
		}
	}
	if served["a"] < 9 || served["b"] < 9 { // rendezvous spreads the keys: 30 of 60 expected each
		t.Errorf("conversations spread %v over the replicas, want both used", served)
	}

	// The client's prompt_cache_key wins over the prefix: one key, one replica.
	first := chatTurn(t, e, conversation(100, 1), `,"prompt_cache_key":"team-x"`)
	for c := 101; c < 110; c++ {
		if b := chatTurn(t, e, conversation(c, 1), `,"prompt_cache_key":"team-x"`); b != first {
			t.Errorf("prompt_cache_key team-x served by %s and %s", first, b)
		}
	}

	// A replica that goes down moves its keys to the other one, and only its keys.
	down := home[0]
	other := map[string]string{"a": "b", "b": "a"}[down]
	e.Sims[down].SetFault(simulator.FaultDown)
	for c := range 20 {
		b := chatTurn(t, e, conversation(c, 4), "")
		if b != other {
			t.Errorf("conversation %d served by %s, whose replica %s is down", c, b, down)
		}
	}
	e.Sims[down].SetFault(simulator.FaultNone)
	metrics := scrape(t, e)
	for _, want := range []string{`spass_affinity_total{result="hit"}`, `spass_affinity_total{result="move"}`,
		`spass_route_choices_total{backend="` + other + `",reason="affinity"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestLatencyAwareRoutingFollowsTheFastReplica(t *testing.T) {
	// Probes are frequent and the average follows the last samples closely, so
	// the test needs few requests; the shares asserted have wide margins.
	e := replicas(t, "probe_share: 0.2, latency_alpha: 0.5", simulator.Options{})
	e.Sims["b"].SetFirstByteDelay(300 * time.Millisecond)
	count := func(from, n int) map[string]int {
		got := map[string]int{}
		for i := range n {
			got[chatTurn(t, e, conversation(from+i, 1), "")]++
		}
		return got
	}
	count(0, 10) // both measured
	slow := count(1000, 60)
	if slow["a"] < 40 {
		t.Errorf("with b slowed, a served %d of 60 (b %d), want most", slow["a"], slow["b"])
	}
	if slow["b"] == 0 {
		t.Errorf("b got no probe in 60 requests")
	}

	e.Sims["b"].SetFirstByteDelay(0)
	count(2000, 60) // probes see b recover
	back := count(3000, 60)
	if back["b"] < 12 {
		t.Errorf("after b recovered, b served %d of 60 (a %d), want its share back", back["b"], back["a"])
	}
	t.Logf("b slowed: %v; b recovered: %v", slow, back)
	metrics := scrape(t, e)
	for _, want := range []string{`spass_route_choices_total{backend="b",reason="probe"}`, `spass_backend_ttfb_seconds{backend="a"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// scrape returns the gateway's /metrics text.
func scrape(t *testing.T, e *gatewaytest.Env) string {
	t.Helper()
	req, _ := http.NewRequest("GET", e.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.MetricsToken)
	resp := gatewaytest.Do(t, req)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}
