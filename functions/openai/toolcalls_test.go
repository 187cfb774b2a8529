package openai_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// canned is a backend that answers every chat completion with the same SSE body.
func canned(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Write([]byte(`{"status":"ok"}`))
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// sse frames events as the gateway writes them.
func sse(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("data: " + e + "\n\n")
	}
	return b.String()
}

const frame = `{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1718000000,"model":"scout","choices":[{"index":0,"delta":`

// conformantToolStream is a vLLM stream in OpenAI's shape: text, then two tool
// calls in fragments, then the usage chunk.
var conformantToolStream = sse(
	frame+`{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"content":"Let me"},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"content":" check <b>that</b>."},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"tool_calls":[{"index":0,"id":"chatcmpl-tool-1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"tool_calls":[{"index":0,"function":{"arguments":"\"Rome\"}"}}]},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"tool_calls":[{"index":1,"id":"chatcmpl-tool-2","type":"function","function":{"arguments":"{\"tz\": \"<local>\"}","name":"get_time"}}]},"logprobs":null,"finish_reason":null}]}`,
	frame+`{},"logprobs":null,"finish_reason":"tool_calls","stop_reason":null}]}`,
	`{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1718000000,"model":"scout","choices":[],"usage":{"prompt_tokens":40,"total_tokens":62,"completion_tokens":22}}`,
	"[DONE]",
)

// conformantTextStream is a plain answer that starts like a Hermes call might.
var conformantTextStream = sse(
	frame+`{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"content":"<"},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"content":"b>Rome</b> is"},"logprobs":null,"finish_reason":null}]}`,
	frame+`{"content":" sunny \u003ctoday\u003e\n"},"logprobs":null,"finish_reason":null}]}`,
	frame+`{},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}`,
	`{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1718000000,"model":"scout","choices":[],"usage":{"prompt_tokens":40,"total_tokens":45,"completion_tokens":5}}`,
	"[DONE]",
)

const weatherTools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},` +
	`{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]`

// TestConformantStreamIsRelayedByteForByte: a stream already in OpenAI's shape,
// from a vLLM backend (whose default format, hermes, is checked for), reaches
// the client exactly as the backend sent it, with tools offered or not.
func TestConformantStreamIsRelayedByteForByte(t *testing.T) {
	for name, stream := range map[string]string{"tool calls": conformantToolStream, "text": conformantTextStream} {
		t.Run(name, func(t *testing.T) {
			env := gatewaytest.Start(t, gatewaytest.Setup{YAML: `
backends:
  - {name: spark, kind: vllm, base_url: "` + canned(t, stream) + `"}
models:
  - {id: scout, chain: [{backend: spark}]}
`})
			for _, tools := range []string{weatherTools + ",", ""} {
				body := `{"model":"scout","messages":[{"role":"user","content":"Weather in Rome?"}],` + tools +
					`"stream":true,"stream_options":{"include_usage":true}}`
				req := env.Request(t, "POST", "/v1/chat/completions", body)
				req.Header.Set("SPASS-Tools", "none")
				resp := gatewaytest.Do(t, req)
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != stream {
					t.Fatalf("tools %v: the client got\n%s\nthe backend sent\n%s", tools != "", got, stream)
				}
			}
		})
	}
}

// TestHalfWrittenEventEndsTheStream: a broken event mid-stream is not relayed;
// the stream ends with a catalog-coded error event and is billed on an estimate.
func TestHalfWrittenEventEndsTheStream(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{SimOptions: simulator.Options{Fault: simulator.FaultHalfEvent}})
	long := `{"model":"sim-chat","messages":[{"role":"user","content":"one two three four five six seven"}],"stream":true}`
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", long))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	events := sseEvents(t, resp.Body)
	resp.Body.Close()
	for i, e := range events {
		if !gjson.Valid(e) {
			t.Fatalf("event %d is not JSON: %q", i, e)
		}
	}
	last := gjson.Parse(events[len(events)-1])
	if last.Get("error.code").Str != "stream_invalid_event" || last.Get("error.type").Str != "api_error" || last.Get("error.message").Str == "" {
		t.Fatalf("last event %s", last.Raw)
	}
	if got := content(t, events[:len(events)-1]); got != "Hello! You said: " {
		t.Fatalf("content before the broken event %q", got)
	}
	id := resp.Header.Get("SPASS-Request-Id")
	var row *struct{ status int }
	for _, r := range env.Ledger(t, "acme") {
		if r.RequestID == id {
			if !r.Estimated || r.Status != http.StatusBadGateway || r.CompletionTokens == 0 || r.PromptTokens == 0 {
				t.Fatalf("ledger row %+v: want an estimate with status 502", r)
			}
			row = &struct{ status int }{r.Status}
		}
	}
	if row == nil {
		t.Fatalf("no ledger row for %s", id)
	}
}

// TestInvalidFirstEventFallsBack: a stream whose first event is broken has sent
// the client nothing, so the next tier serves it.
func TestInvalidFirstEventFallsBack(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"b"}, YAML: `
backends:
  - {name: a, kind: vllm, base_url: "` + canned(t, sse(frame+`{"role":"assis`, "[DONE]")) + `"}
  - {name: b, kind: simulator, base_url: "{{b}}"}
models:
  - {id: sim-chat, chain: [{backend: a}, {backend: b}]}
`})
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", helloStream))
	events := sseEvents(t, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("SPASS-Backend") != "b" || resp.Header.Get("SPASS-Fallback-Count") != "1" {
		t.Fatalf("served by %s after %s fallbacks", resp.Header.Get("SPASS-Backend"), resp.Header.Get("SPASS-Fallback-Count"))
	}
	if content(t, events) != "Hello! You said: Hello there" || events[len(events)-1] != "[DONE]" {
		t.Fatalf("events %q", events)
	}
}
