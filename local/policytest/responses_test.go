package policytest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// respond sends POST /v1/responses without stack tools, as token's tenant
// (acme's admin when token is empty), and returns the whole answer: a JSON
// document or the stream's events.
func respond(t *testing.T, env *gatewaytest.Env, body, token string) (*http.Response, []byte) {
	t.Helper()
	req := env.Request(t, "POST", "/v1/responses", body)
	req.Header.Set("SPASS-Tools", "none")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp := gatewaytest.Do(t, req)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// respStreamed reads a Responses stream as a client assembles it: the text and
// function-call argument deltas, and the finished response of
// response.completed.
func respStreamed(t *testing.T, b []byte) (text, args string, final gjson.Result) {
	t.Helper()
	var tb, ab strings.Builder
	event := ""
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch event {
		case "error", "response.failed":
			t.Fatalf("stream error: %s", data)
		case "response.output_text.delta":
			tb.WriteString(gjson.Get(data, "delta").Str)
		case "response.function_call_arguments.delta":
			ab.WriteString(gjson.Get(data, "delta").Str)
		case "response.completed":
			final = gjson.Get(data, "response")
		}
	}
	return tb.String(), ab.String(), final
}

// respOutput reads the text and the first function call's arguments of a
// response object.
func respOutput(r gjson.Result) (text, args string) {
	return r.Get(`output.#(type=="message").content.0.text`).Str, r.Get(`output.#(type=="function_call").arguments`).Str
}

// respHybridYAML serves two models from a local tier first and a cloud tier
// second: sim-chat's cloud is of a kind that gets the Chat Completions form
// (OpenRouter), native-chat's local and cloud tiers are of kinds that serve
// the Responses API themselves (vLLM, played by the simulator, and OpenAI).
const respHybridYAML = `
backends:
  - {name: local, kind: simulator, base_url: "{{local}}"}
  - {name: localnative, kind: vllm, base_url: "{{local}}"}
  - {name: cloud, kind: openrouter, base_url: "CLOUD"}
  - {name: cloudnative, kind: openai, base_url: "CLOUD"}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: local}, {backend: cloud}]}
  - {id: native-chat, context_window: 32768, chain: [{backend: localnative, model: sim-chat}, {backend: cloudnative, model: sim-chat}]}
`

// TestResponsesRedactedBeforeCloudTier is TestRedactionBeforeCloudTier for
// POST /v1/responses: the local tier (translated or native kind) sees the
// request as written; once it fails, the cloud tier of either kind sees
// placeholders only (instructions and input), and the client gets the values
// back in the JSON response, the streamed deltas, the finished response and
// function-call arguments. A cloud of a native kind gets the native form,
// redacted in the same way.
func TestResponsesRedactedBeforeCloudTier(t *testing.T) {
	cl := newCloud(t)
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"local"}, YAML: strings.ReplaceAll(respHybridYAML, "CLOUD", cl.srv.URL),
		AcmeDefaults: "{redaction.cloud: true}",
		Routing:      "routing: {first_byte_timeout: 2s, response_timeout: 2s, breaker_failures: 1000, breaker_cooldown: 1h}\n"})
	local := env.Sims["local"]
	msg := "Mail " + email + " the key " + apiKey + " please"
	instructions := `"instructions":"Answer for ` + email + `",`
	send := `,"tools":[{"type":"function","name":"send","parameters":{"type":"object","properties":{"text":{"type":"string"}}}}]`

	for _, model := range []string{"sim-chat", "native-chat"} {
		t.Run("local tier of "+model, func(t *testing.T) {
			resp, b := respond(t, env, `{"model":"`+model+`",`+instructions+`"input":"`+msg+`"}`, "")
			text, _ := respOutput(gjson.ParseBytes(b))
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("SPASS-Backend"), "local") || !strings.Contains(text, msg) {
				t.Fatalf("status %d, backend %q: %s", resp.StatusCode, resp.Header.Get("SPASS-Backend"), b)
			}
			if as := string(local.LastRequest()); !strings.Contains(as, email) || !strings.Contains(as, apiKey) {
				t.Fatalf("the local tier saw %s; want the request as written", as)
			}
			if rows := env.Ledger(t, "acme"); rows[len(rows)-1].Redaction {
				t.Fatal("a request served locally is marked redacted")
			}
		})
	}

	local.SetFault(simulator.Fault500)
	tests := []struct {
		name, model, body, backend string
		stream, toolCall           bool
	}{
		{name: "plain", model: "sim-chat", body: `"input":"` + msg + `"`, backend: "cloud"},
		{name: "streamed", model: "sim-chat", body: `"stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"` + msg + `"}]}]`, backend: "cloud", stream: true},
		{name: "function call", model: "sim-chat", body: `"input":"` + msg + `"` + send, backend: "cloud", toolCall: true},
		{name: "streamed function call", model: "sim-chat", body: `"stream":true,"input":"` + msg + `"` + send, backend: "cloud", stream: true, toolCall: true},
		{name: "native kind plain", model: "native-chat", body: `"input":"` + msg + `"`, backend: "cloudnative"},
		{name: "native kind streamed", model: "native-chat", body: `"stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"` + msg + `"}]}]`, backend: "cloudnative", stream: true},
		{name: "native kind function call", model: "native-chat", body: `"input":"` + msg + `"` + send, backend: "cloudnative", toolCall: true},
		{name: "native kind streamed function call", model: "native-chat", body: `"stream":true,"input":"` + msg + `"` + send, backend: "cloudnative", stream: true, toolCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(cl.received())
			resp, b := respond(t, env, `{"model":"`+tt.model+`",`+instructions+tt.body+`}`, "")
			if resp.StatusCode != 200 || resp.Header.Get("SPASS-Backend") != tt.backend {
				t.Fatalf("status %d, backend %q: %s", resp.StatusCode, resp.Header.Get("SPASS-Backend"), b)
			}
			var text, args, doneText, doneArgs string
			if tt.stream {
				var final gjson.Result
				text, args, final = respStreamed(t, b)
				doneText, doneArgs = respOutput(final)
			} else {
				text, args = respOutput(gjson.ParseBytes(b))
				doneText, doneArgs = text, args
			}
			got, want := text, "You said: "+msg
			if tt.toolCall {
				got, want = gjson.Get(args, "text").Str, msg
			}
			if got != want || doneText != text || doneArgs != args {
				t.Fatalf("the client got %q (arguments %q; finished response %q, %q); want the values back", text, args, doneText, doneArgs)
			}
			if strings.Contains(string(b), "[EMAIL_") || strings.Contains(string(b), "[KEY_") {
				t.Fatalf("a placeholder reached the client: %s", b)
			}
			sent, paths := cl.received(), cl.requested()
			if len(sent) != n+1 {
				t.Fatalf("the cloud got %d requests, want 1", len(sent)-n)
			}
			up := sent[len(sent)-1]
			if strings.Contains(up, email) || strings.Contains(up, apiKey) || !strings.Contains(up, "[EMAIL_1]") || !strings.Contains(up, "[KEY_1]") {
				t.Fatalf("the cloud saw %s; want placeholders only", up)
			}
			form := map[string]string{"cloud": "/chat/completions", "cloudnative": "/responses"}[tt.backend]
			if p := paths[len(paths)-1]; !strings.HasSuffix(p, form) {
				t.Fatalf("the cloud was asked at %s; want %s", p, form)
			}
			rows := env.Ledger(t, "acme")
			if r := rows[len(rows)-1]; !r.Redaction || r.Redacted != 2 || r.Backend != tt.backend {
				t.Fatalf("ledger row %+v; want redaction ran, 2 items, served by %s", r, tt.backend)
			}
		})
	}

	// Tenant globex has redaction off: a cloud of a native kind gets the
	// Responses request as written.
	for _, stream := range []string{"false", "true"} {
		t.Run("globex native stream "+stream, func(t *testing.T) {
			resp, b := respond(t, env, `{"model":"native-chat","stream":`+stream+`,"input":"`+msg+`"}`, gatewaytest.OtherToken)
			text, _ := respOutput(gjson.ParseBytes(b))
			if stream == "true" {
				text, _, _ = respStreamed(t, b)
			}
			sent, paths := cl.received(), cl.requested()
			if resp.StatusCode != 200 || text != "You said: "+msg {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if p, up := paths[len(paths)-1], sent[len(sent)-1]; !strings.HasSuffix(p, "/responses") || !strings.Contains(up, email) {
				t.Fatalf("the cloud was asked at %s with %s; want the native request as written", p, up)
			}
		})
	}
}

// TestOverLongResponsesNeverReachABackend: the overflow guard covers
// /v1/responses, the conversation of previous_response_id included, with
// max_output_tokens as the completion; overflow.allow sends the request to the
// overflow model.
func TestOverLongResponsesNeverReachABackend(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim"}, YAML: overflowYAML})
	sim := env.Sims["sim"]
	long := strings.Repeat("word ", 1200) // about 1500 tokens by the estimate
	tooLong := map[string]string{
		"long input":                  `{"model":"sim-chat","input":"` + long + `"}`,
		"long input streamed":         `{"model":"sim-chat","stream":true,"input":"` + long + `"}`,
		"long instructions":           `{"model":"sim-chat","instructions":"` + long + `","input":"Hi"}`,
		"max_output_tokens too large": `{"model":"sim-chat","max_output_tokens":2000,"input":"Hi"}`,
	}
	for name, body := range tooLong {
		t.Run(name, func(t *testing.T) {
			resp, b := respond(t, env, body, "")
			if resp.StatusCode != 400 || gjson.GetBytes(b, "error.code").Str != "context_length_exceeded" ||
				gjson.GetBytes(b, "error.param").Str != "input" || gjson.GetBytes(b, "error.type").Str != "invalid_request_error" {
				t.Fatalf("status %d, body %s; want 400 context_length_exceeded on input", resp.StatusCode, b)
			}
		})
	}
	if n := sim.Requests(); n != 0 {
		t.Fatalf("the simulator got %d requests; an over-long request must never reach a backend", n)
	}

	// Each turn fits on its own; the second with the first's conversation does not.
	resp, b := respond(t, env, `{"model":"sim-chat","max_output_tokens":50,"input":"`+strings.Repeat("word ", 560)+`"}`, "")
	if resp.StatusCode != 200 {
		t.Fatalf("a turn that fits: %d %s", resp.StatusCode, b)
	}
	second := `{"model":"sim-chat","previous_response_id":"` + gjson.GetBytes(b, "id").Str + `","input":"` + strings.Repeat("word ", 300) + `"}`
	resp, b = respond(t, env, second, "")
	if resp.StatusCode != 400 || gjson.GetBytes(b, "error.code").Str != "context_length_exceeded" {
		t.Fatalf("the second turn with its history: %d %s; want 400 context_length_exceeded", resp.StatusCode, b)
	}
	if n := sim.Requests(); n != 1 {
		t.Fatalf("the simulator got %d requests, want only the first turn", n)
	}

	put := gatewaytest.Do(t, env.Request(t, "PUT", "/v1/tenant/config", `{"overflow.allow": true}`))
	if put.StatusCode != 200 {
		t.Fatalf("PUT overflow.allow: %d", put.StatusCode)
	}
	resp, b = respond(t, env, second, "")
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Model") != "sim-vision" || gjson.GetBytes(b, "model").Str != "sim-vision" {
		t.Fatalf("with overflow.allow: status %d, SPASS-Model %q, body %.300s; want 200 from sim-vision",
			resp.StatusCode, resp.Header.Get("SPASS-Model"), b)
	}
	if gjson.GetBytes(sim.LastRequest(), "model").Str != "sim-vision" {
		t.Fatalf("the backend was asked for %q; want the overflow model", gjson.GetBytes(sim.LastRequest(), "model").Str)
	}
	resp, b = respond(t, env, tooLong["long input streamed"], "")
	text, _, final := respStreamed(t, b)
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Model") != "sim-vision" || final.Get("model").Str != "sim-vision" || !strings.Contains(text, "word word") {
		t.Fatalf("streamed overflow: status %d, SPASS-Model %q, final model %q", resp.StatusCode, resp.Header.Get("SPASS-Model"), final.Get("model").Str)
	}
}
