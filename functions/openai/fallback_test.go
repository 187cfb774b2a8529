package openai_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/router"
)

// TestFallbackOnEachFault puts tier 1 in each fault mode of the simulator and
// expects tier 2 to serve, plain and streamed, with headers saying so.
func TestFallbackOnEachFault(t *testing.T) {
	faults := []simulator.Fault{simulator.FaultDown, simulator.Fault500, simulator.Fault429, simulator.FaultHang}
	for _, f := range faults {
		for _, body := range []string{hello, helloStream} {
			name := string(f) + map[bool]string{true: "/stream", false: "/plain"}[strings.Contains(body, "stream")]
			t.Run(name, func(t *testing.T) {
				env := startTwoTiers(t)
				env.Sims["a"].SetFault(f)
				resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", body))
				if resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if resp.Header.Get("SPASS-Backend") != "b" || resp.Header.Get("SPASS-Tier") != "T2" || resp.Header.Get("SPASS-Fallback-Count") != "1" {
					t.Fatalf("headers %v", resp.Header)
				}
				if env.Sims["a"].Requests() != 1 || env.Sims["b"].Requests() != 1 {
					t.Fatalf("requests a=%d b=%d", env.Sims["a"].Requests(), env.Sims["b"].Requests())
				}
			})
		}
	}
}

func TestAllTiersFailing(t *testing.T) {
	cases := []struct {
		fault  simulator.Fault
		status int
		code   string
	}{
		{simulator.Fault429, 429, "upstream_rate_limited"},
		{simulator.Fault500, 502, "upstream_error"},
		{simulator.FaultDown, 502, "upstream_unavailable"},
		{simulator.FaultHang, 504, "upstream_timeout"},
	}
	for _, tc := range cases {
		t.Run(string(tc.fault), func(t *testing.T) {
			env := startTwoTiers(t)
			env.Sims["a"].SetFault(tc.fault)
			env.Sims["b"].SetFault(tc.fault)
			resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", helloStream))
			expectError(t, resp, tc.status, tc.code)
			if tc.status == 429 && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if resp.Header.Get("SPASS-Fallback-Count") != "2" {
				t.Errorf("fallback count %q", resp.Header.Get("SPASS-Fallback-Count"))
			}
		})
	}
}

func TestBreakerOpensThenHalfOpenProbeCloses(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"a", "b"}, YAML: twoTiers,
		Routing: "routing: {first_byte_timeout: 2s, response_timeout: 2s, breaker_failures: 2, breaker_cooldown: 50ms}\n"})
	a := env.Sims["a"]
	a.SetFault(simulator.Fault500)
	for i := 0; i < 2; i++ {
		gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
	}
	if got := env.App.Router.BreakerState("a"); got != router.Open {
		t.Fatalf("after 2 failures the breaker is %s", got)
	}
	// While open, tier 1 is skipped: no new request reaches it.
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
	if resp.Header.Get("SPASS-Backend") != "b" || a.Requests() != 2 {
		t.Fatalf("open breaker let a request through (a=%d) or b did not serve", a.Requests())
	}
	waitFor(t, func() bool { return env.App.Router.BreakerState("a") == router.HalfOpen })
	a.SetFault(simulator.FaultNone)
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
	if resp.Header.Get("SPASS-Backend") != "a" || env.App.Router.BreakerState("a") != router.Closed {
		t.Fatalf("probe served by %s, breaker %s", resp.Header.Get("SPASS-Backend"), env.App.Router.BreakerState("a"))
	}
}

func TestMidStreamCutEndsWithErrorEvent(t *testing.T) {
	env := startTwoTiers(t)
	env.Sims["a"].SetFault(simulator.FaultCut)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", helloStream))
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Backend") != "a" {
		t.Fatalf("status %d backend %s: the cut comes after the first byte, so no fallback", resp.StatusCode, resp.Header.Get("SPASS-Backend"))
	}
	events := sseEvents(t, resp.Body)
	last := events[len(events)-1]
	if !strings.Contains(last, `"code":"stream_interrupted"`) || !strings.HasPrefix(last, `{"error":`) {
		t.Fatalf("last event %q", last)
	}
	for _, e := range events {
		if e == "[DONE]" {
			t.Fatal("an interrupted stream must not end with [DONE]")
		}
	}
	if env.Sims["b"].Requests() != 0 {
		t.Fatal("fell back after the first byte")
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{SimOptions: simulator.Options{TokenDelay: 50 * time.Millisecond}})
	long := `{"model":"sim-chat","messages":[{"role":"user","content":"` + strings.Repeat("word ", 200) + `"}],"stream":true}`
	ctx, cancel := context.WithCancel(context.Background())
	req := env.Request(t, "POST", "/v1/chat/completions", long).WithContext(ctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q %v", line, err)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, func() bool { return env.Sims["sim"].Cancelled() == 1 })
}

// waitFor polls cond until it holds; the test's own timeout bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in 10s")
}
