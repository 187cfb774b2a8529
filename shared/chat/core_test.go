package chat_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/router"
	"spass/shared/tools"
)

var alice = identity.Principal{Tenant: "acme", Role: identity.RoleAdmin, Token: "admin", User: "alice"}

// withAdd gives the gateway one stack tool, add, that sums a and b.
func withAdd(t *testing.T, env *gatewaytest.Env) {
	t.Helper()
	reg := tools.NewRegistry()
	err := reg.Add(tools.Tool{
		Name: "add", Description: "Adds two numbers.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
		Execute: func(ctx context.Context, c tools.Call, args json.RawMessage) (any, error) {
			var in struct{ A, B float64 }
			json.Unmarshal(args, &in)
			return map[string]any{"sum": in.A + in.B, "request": c.RequestID, "surface": c.Surface, "agent": c.Agent}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.App.Chat.Tools, env.App.Chat.MaxRounds, env.App.Chat.ToolTimeout = reg, 3, 5*time.Second
}

func body(prompt, extra string) string {
	b, _ := json.Marshal(prompt)
	return `{"model":"sim-chat","messages":[{"role":"user","content":` + string(b) + `}]` + extra + `}`
}

// complete runs body through the core, in-process, into a memory sink.
func complete(t *testing.T, env *gatewaytest.Env, b string, opts chat.Options) (chat.Result, *chat.Memory) {
	t.Helper()
	req, err := chat.ParseChat([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	sink := &chat.Memory{}
	res, err := env.App.Chat.Complete(context.Background(), alice, req, opts, sink)
	if err != nil {
		t.Fatal(err)
	}
	return res, sink
}

// overHTTP sends the same body to /v1 and returns the reply an HTTP client reads:
// the JSON answer's message, or the stream's deltas put together.
func overHTTP(t *testing.T, env *gatewaytest.Env, b string) (content, finish string) {
	t.Helper()
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", b))
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		m := gjson.GetBytes(raw, "choices.0")
		return m.Get("message.content").Str, m.Get("finish_reason").Str
	}
	return fromEvents(t, strings.Split(string(raw), "\n\n"))
}

// fromEvents accumulates SSE events ("data: {...}") as a client does.
func fromEvents(t *testing.T, events []string) (content, finish string) {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		data, ok := strings.CutPrefix(strings.TrimSpace(e), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		ch := gjson.Get(data, "choices.0")
		b.WriteString(ch.Get("delta.content").Str)
		if f := ch.Get("finish_reason"); f.Type == gjson.String {
			finish = f.Str
		}
	}
	return b.String(), finish
}

func chunks(m *chat.Memory) []string {
	out := make([]string, len(m.Chunks))
	for i, c := range m.Chunks {
		out[i] = "data: " + string(c)
	}
	return out
}

func TestCorePlainReturnsWhatTheClientReceives(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	b := body("hello core", "")
	res, sink := complete(t, env, b, chat.Options{Surface: chat.SurfaceC1, Ref: "conv_1"})
	reply := res.Reply()
	content, finish := overHTTP(t, env, b)
	if reply.Message.Content != content || reply.FinishReason != finish || reply.Message.Role != "assistant" {
		t.Fatalf("core reply %+v, HTTP client read %q %q", reply, content, finish)
	}
	if gjson.GetBytes(sink.Body, "choices.0.message.content").Str != content {
		t.Fatalf("the memory sink holds %s", sink.Body)
	}
	if u := gjson.GetBytes(sink.Body, "usage.total_tokens").Int(); u == 0 || res.Usage.Prompt+res.Usage.Completion != u || res.Estimated {
		t.Fatalf("usage %+v, answer says %d", res.Usage, u)
	}
	if res.Backend != "sim" || res.RequestID == "" {
		t.Fatalf("served by %q, request id %q", res.Backend, res.RequestID)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 2 || rows[0].RequestID != res.RequestID || rows[0].Surface != "c1" || rows[0].Ref != "conv_1" || rows[1].Surface != "v1" {
		t.Fatalf("ledger %+v", rows)
	}
}

func TestCoreStreamReturnsWhatTheClientReceives(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	b := body("tell me a streamed story", `,"stream":true`)
	ctx := requestid.With(context.Background(), "req_mine")
	req, _ := chat.ParseChat([]byte(b))
	sink := &chat.Memory{}
	res, err := env.App.Chat.Complete(ctx, alice, req, chat.Options{Surface: chat.SurfaceA1, Ref: "sess_1"}, sink)
	if err != nil {
		t.Fatal(err)
	}
	reply := res.Reply()
	got, gotFinish := fromEvents(t, chunks(sink))
	content, finish := overHTTP(t, env, b)
	if reply.Message.Content != content || got != content || reply.FinishReason != finish || gotFinish != finish || content == "" {
		t.Fatalf("core %+v, memory events %q, HTTP %q %q", reply, got, content, finish)
	}
	if res.RequestID != "req_mine" || res.Usage.Completion == 0 || res.Interrupted {
		t.Fatalf("result %+v", res)
	}
	for _, c := range sink.Chunks {
		if strings.Contains(string(c), `"usage"`) && gjson.GetBytes(c, "usage").IsObject() {
			t.Fatalf("a usage chunk the caller did not ask for: %s", c)
		}
	}
	rows := env.Ledger(t, "acme")
	if rows[0].RequestID != "req_mine" || rows[0].Surface != "a1" || rows[0].CompletionTokens != res.Usage.Completion {
		t.Fatalf("ledger %+v", rows[0])
	}
}

func TestCoreToolLoopSumsEveryRound(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "streamed"}[stream], func(t *testing.T) {
			env := gatewaytest.Start(t, gatewaytest.Setup{})
			withAdd(t, env)
			extra := ""
			if stream {
				extra = `,"stream":true`
			}
			b := body(`please add {"a":2,"b":3}`, extra)
			res, sink := complete(t, env, b, chat.Options{Surface: chat.SurfaceA1, Agent: "helper", Ref: "sess_9"})
			reply := res.Reply()
			received := gjson.GetBytes(sink.Body, "choices.0.message.content").Str
			if stream {
				received, _ = fromEvents(t, chunks(sink))
			}
			if received != reply.Message.Content {
				t.Fatalf("the receiver got %q, the result says %q", received, reply.Message.Content)
			}
			if !strings.Contains(reply.Message.Content, `"sum":5`) || !strings.Contains(reply.Message.Content, `"agent":"helper"`) ||
				!strings.Contains(reply.Message.Content, `"surface":"a1"`) || !strings.Contains(reply.Message.Content, res.RequestID) {
				t.Fatalf("reply %+v", reply)
			}
			var sum chat.Usage
			for _, r := range env.Ledger(t, "acme") {
				if r.RequestID == res.RequestID || r.ParentRequestID == res.RequestID {
					if r.Surface != "a1" || r.Ref != "sess_9" {
						t.Errorf("row %+v lacks the surface or ref", r)
					}
					sum = sum.Plus(chat.Usage{Prompt: r.PromptTokens, Completion: r.CompletionTokens})
				}
			}
			if sum != res.Usage || res.Usage.Prompt == 0 {
				t.Fatalf("result usage %+v, ledger rounds %+v", res.Usage, sum)
			}
		})
	}
}

func TestCoreToolPolicy(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	withAdd(t, env)
	b := body(`please add {"a":2,"b":3}`, "")
	for name, pol := range map[string]chat.ToolPolicy{"none": {None: true}, "not listed": {Names: []string{"other"}}} {
		res, _ := complete(t, env, b, chat.Options{Tools: pol})
		if strings.Contains(res.Reply().Message.Content, "sum") {
			t.Errorf("%s: a tool ran: %+v", name, res.Reply())
		}
	}
	res, _ := complete(t, env, b, chat.Options{Tools: chat.ToolPolicy{Names: []string{"add"}, MaxRounds: 1}})
	if !strings.Contains(res.Reply().Message.Content, `"sum":5`) {
		t.Fatalf("listed tool did not run: %+v", res.Reply())
	}
}

func TestCoreHistoryGoesBeforeTheMessages(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	hist := []chat.Message{
		{Role: "user", Content: "my name is Ada"},
		{Role: "assistant", Content: "Hello Ada"},
	}
	b := `{"model":"sim-chat","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"who am I?"}]}`
	res, _ := complete(t, env, b, chat.Options{History: hist})
	sent := env.Sims["sim"].LastRequest()
	var roles []string
	for _, m := range gjson.GetBytes(sent, "messages").Array() {
		roles = append(roles, m.Get("role").Str+":"+m.Get("content").Str)
	}
	want := "system:be brief|user:my name is Ada|assistant:Hello Ada|user:who am I?"
	if strings.Join(roles, "|") != want {
		t.Fatalf("backend got %v, want %s", roles, want)
	}
	if res.Reply().Message.Content != "Hello! You said: who am I?" {
		t.Fatalf("reply %+v", res.Reply())
	}
}

func TestCoreFallsBackBeforeTheFirstByte(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"a", "b"}, YAML: `
backends:
  - {name: a, kind: simulator, base_url: "{{a}}", tier: 1}
  - {name: b, kind: openrouter, base_url: "{{b}}", tier: 2}
models:
  - {id: sim-chat, chain: [{backend: a}, {backend: b}]}
`})
	env.Sims["a"].SetFault(simulator.Fault500)
	for _, stream := range []string{"", `,"stream":true`} {
		res, _ := complete(t, env, body("fall back", stream), chat.Options{})
		if res.Backend != "b" || res.Fallbacks != 1 || res.Reply().Message.Content != "Hello! You said: fall back" {
			t.Fatalf("stream %q: result %+v reply %+v", stream, res, res.Reply())
		}
	}
	// A provider choice of local backends only leaves nothing to fall back to.
	req, _ := chat.ParseChat([]byte(body("local only", "")))
	_, err := env.App.Chat.Complete(context.Background(), alice, req, chat.Options{Filter: router.Filter{Where: router.Local}}, &chat.Memory{})
	if err == nil {
		t.Fatal("the local backend failed; the cloud one must not be tried under a local-only filter")
	}
	res, _ := complete(t, env, body("cloud only", ""), chat.Options{Filter: router.Filter{Where: router.Cloud}})
	if res.Backend != "b" || res.Fallbacks != 0 {
		t.Fatalf("cloud-only result %+v", res)
	}
}

func TestNewRequestFromTypedMessages(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	req, err := chat.NewRequest("sim-vision", []chat.Message{{Role: "user", Parts: []chat.Part{
		{Type: "text", Text: "what is this?"},
		{Type: "image_url", ImageURL: &chat.ImageURL{URL: "data:image/png;base64,iVBORw0KGgo="}},
	}}}, chat.Params{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.App.Chat.Complete(context.Background(), alice, req, chat.Options{}, &chat.Memory{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Reply().Message.Content; !strings.HasPrefix(got, "I see an image.") {
		t.Fatalf("reply %q", got)
	}
}
