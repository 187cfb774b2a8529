package openai_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/shared/router"
)

// The gateway and the backend must read the same request: a model named twice is
// refused, so a blacklisted model can never be served as the allowed one.
func TestDuplicateModelKeyIsRefused(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{AcmeDefaults: "{models.blacklist: [sim-vision]}"})
	for _, b := range []string{
		`{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"model":"sim-vision"}`,
		`{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"mod\u0065l":"sim-vision"}`,
		`{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"stream":false,"stream":true}`,
		`{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"stream_options":{"include_usage":false}}`,
	} {
		resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", b))
		expectError(t, resp, http.StatusBadRequest, "duplicate_key")
	}
	if n := env.Sims["sim"].Requests(); n != 0 {
		t.Fatalf("%d requests reached the backend", n)
	}
	if rows := env.Ledger(t, "acme"); len(rows) != 0 && rows[0].Model == "sim-vision" {
		t.Fatalf("billed the blacklisted model: %+v", rows)
	}
}

// A read-only token cannot open a backend's breaker with requests whose shape
// makes the answer unreadable; and the backend is always told whether to stream.
func TestClientCannotOpenTheBreaker(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for range 6 {
		req := env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"stream":false,"stream":true}`)
		req.Header.Set("Authorization", "Bearer "+gatewaytest.ReadOnlyToken)
		gatewaytest.Do(t, req).Body.Close()
	}
	if st := env.App.Router.BreakerState("sim"); st != router.Closed {
		t.Fatalf("breaker %v after six malformed requests", st)
	}
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a good request after the attack: %d", resp.StatusCode)
	}
	if s := gjson.GetBytes(env.Sims["sim"].LastRequest(), "stream"); s.Type != gjson.False {
		t.Fatalf("the backend was not told explicitly not to stream: %s", env.Sims["sim"].LastRequest())
	}
}

// mockBackend serves chat completions that name the model "llama3.1:latest" and,
// like a backend that ignores include_usage, never report usage.
func mockBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if gjson.GetBytes(b, "stream").Bool() {
			w.Header().Set("Content-Type", "text/event-stream")
			for i, tok := range []string{"Hello", " from", " the", " backend"} {
				fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"llama3.1:latest\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", tok)
				_ = i
			}
			fmt.Fprint(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"llama3.1:latest\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","model":"llama3.1:latest","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the backend"},"finish_reason":"stop"}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func startMock(t *testing.T) *gatewaytest.Env {
	srv := mockBackend(t)
	return gatewaytest.Start(t, gatewaytest.Setup{YAML: `
backends:
  - {name: llama, kind: vllm, base_url: "` + srv.URL + `"}
models:
  - {id: team-llama, chain: [{backend: llama, model: "llama3.1"}]}
`})
}

// No free answers: an answer without usage is billed on an estimate, flagged.
func TestAnswersWithoutUsageAreEstimated(t *testing.T) {
	env := startMock(t)
	for _, b := range []string{
		`{"model":"team-llama","messages":[{"role":"user","content":"hello there"}]}`,
		`{"model":"team-llama","messages":[{"role":"user","content":"hello there"}],"stream":true,"stream_options":{"include_usage":true}}`,
	} {
		resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", b))
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "backend") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 2 {
		t.Fatalf("ledger %+v", rows)
	}
	for _, r := range rows {
		if !r.Estimated || r.PromptTokens == 0 || r.CompletionTokens == 0 || r.CostNanoUSD < 0 {
			t.Errorf("row not estimated: %+v", r)
		}
	}
}

// Answers carry the slug the client asked for, never the backend's own model id.
func TestAnswersNameTheGatewaySlug(t *testing.T) {
	env := startMock(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"team-llama","messages":[{"role":"user","content":"hi"}]}`))
	if body := readAll(t, resp); gjson.Get(body, "model").Str != "team-llama" || strings.Contains(body, "llama3.1") {
		t.Fatalf("answer %s", body)
	}
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"team-llama","messages":[{"role":"user","content":"hi"}],"stream":true}`))
	events := sseEvents(t, resp.Body)
	for _, e := range events[:len(events)-1] {
		if gjson.Get(e, "model").Str != "team-llama" {
			t.Fatalf("chunk %s", e)
		}
	}
}

// The tokens-per-minute limit counts every round of a stack-tool loop, as the
// client's usage does.
func TestTokenLimitCountsEveryToolRound(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{AcmeDefaults: "{ratelimit.tokens_per_minute: 100000}"})
	withAdd(t, env)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`please add {"a":2,"b":3}`, "")))
	total := gjson.Get(readAll(t, resp), "usage.total_tokens").Int()
	if env.Sims["sim"].Requests() != 2 || total == 0 {
		t.Fatalf("no tool loop: %d rounds, %d tokens", env.Sims["sim"].Requests(), total)
	}
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
	left, _ := strconv.ParseInt(resp.Header.Get("SPASS-RateLimit-Remaining-Tokens"), 10, 64)
	if left != 100000-total {
		t.Fatalf("remaining tokens %d after a loop that used %d, want %d", left, total, 100000-total)
	}
}
