// Package policytest runs the chat core's data policies on a real gateway: the
// context-overflow guard (a request longer than the model's window never reaches
// a backend, or reaches the configured overflow model) and redaction before cloud
// tiers (the cloud never sees the values, the client gets them back).
package policytest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/local/logbuf"
	"spass/local/simulator"
	"spass/shared/chat"
	"spass/shared/identity"
)

// call sends a chat completion as tenant acme's admin and returns the answer.
func call(t *testing.T, env *gatewaytest.Env, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req := env.Request(t, "POST", "/v1/chat/completions", body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp := gatewaytest.Do(t, req)
	if req.Header.Get("Accept") == "text/event-stream" || strings.Contains(body, `"stream":true`) && resp.StatusCode == 200 {
		return resp, nil
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const overflowYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
models:
  - {id: sim-chat, context_window: 1000, overflow: [sim-vision], chain: [{backend: sim}]}
  - {id: sim-vision, vision: true, context_window: 100000, chain: [{backend: sim}]}
`

// TestOverLongPromptNeverReachesABackend sends prompts longer than sim-chat's
// 1000-token window: refused with OpenAI's 400 context_length_exceeded while
// the simulator counts no request, then, once the tenant allows overflow, served
// by the overflow model, which SPASS-Model names.
func TestOverLongPromptNeverReachesABackend(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim"}, YAML: overflowYAML})
	sim := env.Sims["sim"]
	long := strings.Repeat("word ", 1200) // about 1500 tokens by the estimate
	tooLong := map[string]string{
		"long prompt":          `{"model":"sim-chat","messages":[{"role":"user","content":"` + long + `"}]}`,
		"long prompt streamed": `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` + long + `"}]}`,
		"max_tokens too large": `{"model":"sim-chat","max_tokens":2000,"messages":[{"role":"user","content":"Hi"}]}`,
		"max_completion_tokens too large": `{"model":"sim-chat","max_completion_tokens":990,` +
			`"messages":[{"role":"user","content":"` + strings.Repeat("w ", 100) + `"}]}`,
	}
	for name, body := range tooLong {
		t.Run(name, func(t *testing.T) {
			resp, b := call(t, env, body)
			if resp.StatusCode != 400 || gjson.GetBytes(b, "error.code").Str != "context_length_exceeded" ||
				gjson.GetBytes(b, "error.param").Str != "messages" || gjson.GetBytes(b, "error.type").Str != "invalid_request_error" {
				t.Fatalf("status %d, body %s; want 400 context_length_exceeded on messages", resp.StatusCode, b)
			}
		})
	}
	// The guard is in the core: /c1 turns meet it too.
	c1 := gatewaytest.Do(t, env.Request(t, "POST", "/c1/chat", `{"model":"sim-chat","message":"`+long+`"}`))
	if b, _ := io.ReadAll(c1.Body); c1.StatusCode != 400 || gjson.GetBytes(b, "error.code").Str != "context_length_exceeded" {
		t.Fatalf("/c1: %d %s", c1.StatusCode, b)
	}
	if n := sim.Requests(); n != 0 {
		t.Fatalf("the simulator got %d requests; an over-long prompt must never reach a backend", n)
	}
	if resp, b := call(t, env, `{"model":"sim-chat","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("a prompt that fits: %d %s", resp.StatusCode, b)
	}

	put := gatewaytest.Do(t, env.Request(t, "PUT", "/v1/tenant/config", `{"overflow.allow": true}`))
	if put.StatusCode != 200 {
		t.Fatalf("PUT overflow.allow: %d", put.StatusCode)
	}
	before := sim.Requests()
	resp, b := call(t, env, tooLong["long prompt"])
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Model") != "sim-vision" || gjson.GetBytes(b, "model").Str != "sim-vision" {
		t.Fatalf("with overflow.allow: status %d, SPASS-Model %q, body %.200s; want 200 from sim-vision",
			resp.StatusCode, resp.Header.Get("SPASS-Model"), b)
	}
	if sim.Requests() != before+1 || gjson.GetBytes(sim.LastRequest(), "model").Str != "sim-vision" {
		t.Fatalf("the backend was asked for %q; want the overflow model", gjson.GetBytes(sim.LastRequest(), "model").Str)
	}
	resp, _ = call(t, env, tooLong["long prompt streamed"])
	text, _, done := streamed(t, resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Model") != "sim-vision" || !done || !strings.Contains(text, "word word") {
		t.Fatalf("streamed overflow: status %d, SPASS-Model %q, done %v", resp.StatusCode, resp.Header.Get("SPASS-Model"), done)
	}
	// Nothing fits 200,000 completion tokens: refused even with overflow allowed.
	if resp, b := call(t, env, `{"model":"sim-chat","max_tokens":200000,"messages":[{"role":"user","content":"Hi"}]}`); resp.StatusCode != 400 {
		t.Fatalf("too long for every model of the chain: %d %s", resp.StatusCode, b)
	}

	rows := env.Ledger(t, "acme")
	if r := rows[0]; r.Status != 400 || r.Model != "sim-chat" || r.PromptTokens != 0 {
		t.Fatalf("first ledger row %+v, want the refused request at 400 with no usage", r)
	}
	m := metricsText(t, env)
	for _, want := range []string{`spass_overflow_guard_total{outcome="rejected"} 6`, `spass_overflow_guard_total{outcome="rerouted"} 2`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func metricsText(t *testing.T, env *gatewaytest.Env) string {
	t.Helper()
	req := env.Request(t, "GET", "/metrics", "")
	req.Header.Set("Authorization", "Bearer "+gatewaytest.MetricsToken)
	resp := gatewaytest.Do(t, req)
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// hybridYAML is a model served by a local simulator first, a cloud provider
// (an OpenRouter-kind backend) second.
const hybridYAML = `
backends:
  - {name: local, kind: simulator, base_url: "{{local}}"}
  - {name: cloud, kind: openrouter, base_url: "CLOUD"}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: local}, {backend: cloud}]}
`

const (
	email  = "bob@example.com"
	apiKey = "sk-abcdefghijklmnopqrstu1234"
)

// TestRedactionBeforeCloudTier sends an e-mail address and a key to a model
// whose local tier fails, so the cloud tier serves it: the cloud sees
// placeholders only, the local tier saw the request as written, and the client
// gets the values back in plain answers, streams, and tool-call arguments, on
// the core's direct path and through the stack-tool loop. Redaction is switched
// on at the process level (SPASS_REDACTION_CLOUD=true).
func TestRedactionBeforeCloudTier(t *testing.T) {
	cl := newCloud(t)
	logs := &logbuf.Buffer{}
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"local"}, YAML: strings.Replace(hybridYAML, "CLOUD", cl.srv.URL, 1),
		Env:     map[string]string{"SPASS_REDACTION_CLOUD": "true"},
		Routing: "routing: {first_byte_timeout: 2s, response_timeout: 2s, breaker_failures: 1000, breaker_cooldown: 1h}\n",
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	local := env.Sims["local"]
	local.SetFault(simulator.Fault500)
	msg := "Mail " + email + " the key " + apiKey + " please"
	send := `,"tools":[{"type":"function","function":{"name":"send","parameters":{"type":"object","properties":{"text":{"type":"string"}}}}}]`
	tests := []struct {
		name, body, tools string
		stream, toolCall  bool
	}{
		{name: "plain", body: `{"model":"sim-chat","messages":[{"role":"user","content":"` + msg + `"}]}`, tools: "none"},
		{name: "streamed", body: `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` + msg + `"}]}`, tools: "none", stream: true},
		{name: "plain through the tool loop", body: `{"model":"sim-chat","messages":[{"role":"user","content":"` + msg + `"}]}`},
		{name: "streamed through the tool loop", body: `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` + msg + `"}]}`, stream: true},
		{name: "tool call", body: `{"model":"sim-chat","messages":[{"role":"user","content":"` + msg + `"}]` + send + `}`, tools: "none", toolCall: true},
		{name: "streamed tool call", body: `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` + msg + `"}]` + send + `}`, tools: "none", stream: true, toolCall: true},
		{name: "streamed tool call through the tool loop", body: `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` + msg + `"}]` + send + `}`, stream: true, toolCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(cl.received())
			var hdr []string
			if tt.tools != "" {
				hdr = []string{"SPASS-Tools", tt.tools}
			}
			resp, b := call(t, env, tt.body, hdr...)
			if resp.StatusCode != 200 || resp.Header.Get("SPASS-Backend") != "cloud" {
				t.Fatalf("status %d, backend %q: %s", resp.StatusCode, resp.Header.Get("SPASS-Backend"), b)
			}
			var text, args string
			if tt.stream {
				var done bool
				if text, args, done = streamed(t, resp.Body); !done {
					t.Fatal("the stream did not end with [DONE]")
				}
			} else {
				text = gjson.GetBytes(b, "choices.0.message.content").Str
				args = gjson.GetBytes(b, "choices.0.message.tool_calls.0.function.arguments").Str
			}
			got := text
			if tt.toolCall {
				got = gjson.Get(args, "text").Str
			}
			if got != map[bool]string{false: "You said: " + msg, true: msg}[tt.toolCall] {
				t.Fatalf("the client got %q (arguments %q); want the values back", text, args)
			}

			sent := cl.received()
			if len(sent) != n+1 {
				t.Fatalf("the cloud got %d requests, want 1", len(sent)-n)
			}
			up := sent[len(sent)-1]
			if strings.Contains(up, email) || strings.Contains(up, apiKey) || !strings.Contains(up, "[EMAIL_1]") || !strings.Contains(up, "[KEY_1]") {
				t.Fatalf("the cloud saw %s; want placeholders only", gjson.Get(up, "messages").Raw)
			}
			if as := string(local.LastRequest()); !strings.Contains(as, email) || !strings.Contains(as, apiKey) {
				t.Fatalf("the local tier saw %s; want the request as written", gjson.Get(as, "messages").Raw)
			}
			rows := env.Ledger(t, "acme")
			if r := rows[len(rows)-1]; !r.Redaction || r.Redacted != 2 || r.Backend != "cloud" {
				t.Fatalf("ledger row %+v; want redaction ran, 2 items, served by cloud", r)
			}
		})
	}
	if l := logs.String(); strings.Contains(l, email) || strings.Contains(l, apiKey) {
		t.Fatal("a redacted value reached the log")
	}
	m := metricsText(t, env)
	for _, want := range []string{`spass_redactions_total{kind="EMAIL"} 7`, `spass_redactions_total{kind="KEY"} 7`, `spass_redactions_total{kind="CARD"} 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestLocalTierAndTenantsWithoutRedaction: a request the local tier serves, and
// a tenant whose setting is off, go out as written.
func TestLocalTierAndTenantsWithoutRedaction(t *testing.T) {
	cl := newCloud(t)
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"local"}, YAML: strings.Replace(hybridYAML, "CLOUD", cl.srv.URL, 1),
		AcmeDefaults: "{redaction.cloud: true, redaction.patterns: ['EMP-\\d{6}']}"})
	body := `{"model":"sim-chat","messages":[{"role":"user","content":"Mail ` + email + ` about EMP-123456"}]}`
	resp, b := call(t, env, body, "SPASS-Tools", "none")
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Backend") != "local" || !strings.Contains(string(env.Sims["local"].LastRequest()), email) {
		t.Fatalf("local tier: %d %s %s", resp.StatusCode, resp.Header.Get("SPASS-Backend"), b)
	}
	if rows := env.Ledger(t, "acme"); rows[len(rows)-1].Redaction {
		t.Fatal("a request served locally is marked redacted")
	}
	env.Sims["local"].SetFault(simulator.Fault500)
	resp, b = call(t, env, body, "SPASS-Tools", "none")
	up := cl.received()[0]
	if resp.StatusCode != 200 || strings.Contains(up, "EMP-123456") || !strings.Contains(up, "[REDACTED_1]") ||
		gjson.GetBytes(b, "choices.0.message.content").Str != "You said: Mail "+email+" about EMP-123456" {
		t.Fatalf("custom pattern: cloud saw %s, client got %s", gjson.Get(up, "messages").Raw, b)
	}
	// Tenant globex has redaction off: its cloud request goes as written.
	req := env.Request(t, "POST", "/v1/chat/completions", body)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.OtherToken)
	req.Header.Set("SPASS-Tools", "none")
	if resp := gatewaytest.Do(t, req); resp.StatusCode != 200 || !strings.Contains(cl.received()[1], email) {
		t.Fatalf("globex: %d, cloud saw %s", resp.StatusCode, cl.received()[1])
	}
	bad := gatewaytest.Do(t, env.Request(t, "PUT", "/v1/tenant/config", `{"redaction.patterns": ["(unclosed"]}`))
	if bad.StatusCode != 400 {
		t.Fatalf("an invalid pattern was stored: %d", bad.StatusCode)
	}
}

// TestReplyOfARedactedStreamHasTheValues: surfaces that store the answer (/c1,
// /a1, batch lines) read Result.Reply; for a stream served by the cloud it must
// hold the values, not the placeholders, and so must the events they relay.
func TestReplyOfARedactedStreamHasTheValues(t *testing.T) {
	cl := newCloud(t)
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"local"}, YAML: strings.Replace(hybridYAML, "CLOUD", cl.srv.URL, 1),
		AcmeDefaults: "{redaction.cloud: true}"})
	env.Sims["local"].SetFault(simulator.Fault500)
	for _, stream := range []string{"true", "false"} {
		req, err := chat.ParseChat([]byte(`{"model":"sim-chat","stream":` + stream + `,"messages":[{"role":"user","content":"Mail ` + email + `"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		mem := &chat.Memory{}
		p := identity.Principal{Tenant: "acme", Role: identity.RoleAdmin, User: "alice"}
		res, err := env.App.Chat.Complete(context.Background(), p, req, chat.Options{Surface: chat.SurfaceC1, Tools: chat.ToolPolicy{None: true}}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Reply().Message.Text(); got != "You said: Mail "+email {
			t.Fatalf("stream %s: Reply = %q", stream, got)
		}
		var relayed strings.Builder
		for _, c := range mem.Chunks {
			relayed.WriteString(gjson.GetBytes(c, "choices.0.delta.content").Str)
		}
		if stream == "true" && relayed.String() != "You said: Mail "+email {
			t.Fatalf("relayed events say %q", relayed.String())
		}
	}
}
