package conversations_test

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
)

// post sends a /c1/chat turn as alice (admin token of acme) and returns the answer.
func post(t *testing.T, env *gatewaytest.Env, body string) (*http.Response, string) {
	t.Helper()
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/c1/chat", body))
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func turnOK(t *testing.T, env *gatewaytest.Env, body string) gjson.Result {
	t.Helper()
	resp, b := post(t, env, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("turn %s: %d %s", body, resp.StatusCode, b)
	}
	out := gjson.Parse(b)
	if resp.Header.Get("SPASS-Conversation-Id") != out.Get("conversation_id").Str || out.Get("conversation_id").Str == "" {
		t.Fatalf("conversation id header %q, body %s", resp.Header.Get("SPASS-Conversation-Id"), b)
	}
	return out
}

// sentMessages is what the backend received last: "role:content" per message.
func sentMessages(env *gatewaytest.Env, sim string) []string {
	var out []string
	for _, m := range gjson.GetBytes(env.Sims[sim].LastRequest(), "messages").Array() {
		out = append(out, m.Get("role").Str+":"+m.Get("content").String())
	}
	return out
}

func TestThreeTurnsCarryTheHistory(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	first := turnOK(t, env, `{"model":"sim-chat","message":"my name is Ada","system_prompt":"be brief"}`)
	id := first.Get("conversation_id").Str
	if first.Get("message.content").Str != "Hello! You said: my name is Ada" || first.Get("usage.total_tokens").Int() == 0 ||
		first.Get("backend").Str != "sim" || first.Get("model").Str != "sim-chat" || first.Get("turns_left_out").Int() != 0 {
		t.Fatalf("turn 1: %s", first.Raw)
	}
	turnOK(t, env, `{"conversation_id":"`+id+`","message":"I like tea"}`)
	third := turnOK(t, env, `{"conversation_id":"`+id+`","message":"who am I?"}`)
	want := "system:be brief|user:my name is Ada|assistant:Hello! You said: my name is Ada|user:I like tea|assistant:Hello! You said: I like tea|user:who am I?"
	if got := strings.Join(sentMessages(env, "sim"), "|"); got != want {
		t.Fatalf("turn 3 sent\n%s\nwant\n%s", got, want)
	}
	if third.Get("model").Str != "sim-chat" {
		t.Fatalf("the conversation must remember its model: %s", third.Raw)
	}
	for _, r := range env.Ledger(t, "acme") {
		if r.Surface != "c1" || r.Ref != id {
			t.Fatalf("ledger row %+v", r)
		}
	}
	resp := gatewaytest.Do(t, env.Request(t, "GET", "/c1/conversations/"+id, ""))
	var conv struct {
		Title    string
		Messages int
		Data     []struct {
			Seq    int64
			Status string
		}
	}
	json.NewDecoder(resp.Body).Decode(&conv)
	if conv.Title != "my name is Ada" || conv.Messages != 6 || len(conv.Data) != 6 || conv.Data[5].Seq != 6 {
		t.Fatalf("conversation %+v", conv)
	}
}

const tiered = `
backends:
  - {name: spark, kind: simulator, base_url: "{{spark}}", tier: 1}
  - {name: cloud, kind: openrouter, base_url: "{{cloud}}", tier: 3}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: spark}, {backend: cloud}]}
`

func TestSwitchingProviderMidConversation(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"spark", "cloud"}, YAML: tiered})
	a := turnOK(t, env, `{"provider":"local","message":"first on the spark"}`)
	id := a.Get("conversation_id").Str
	if a.Get("backend").Str != "spark" || a.Get("tier").Int() != 1 {
		t.Fatalf("local turn served by %s", a.Raw)
	}
	b := turnOK(t, env, `{"conversation_id":"`+id+`","provider":"cloud","message":"now in the cloud"}`)
	if b.Get("backend").Str != "cloud" || b.Get("tier").Int() != 3 {
		t.Fatalf("cloud turn served by %s", b.Raw)
	}
	if got := strings.Join(sentMessages(env, "cloud"), "|"); !strings.HasPrefix(got, "user:first on the spark|assistant:") {
		t.Fatalf("the cloud got %s", got)
	}
	// The provider is remembered: a turn that names none stays in the cloud.
	if c := turnOK(t, env, `{"conversation_id":"`+id+`","message":"and again"}`); c.Get("backend").Str != "cloud" {
		t.Fatalf("remembered provider: %s", c.Raw)
	}
	env.Sims["spark"].SetFault(simulator.Fault500)
	resp, body := post(t, env, `{"conversation_id":"`+id+`","provider":"local","message":"spark is down"}`)
	if resp.StatusCode < 500 || gjson.Get(body, "error.code").Str == "" {
		t.Fatalf("local-only turn with the spark down: %d %s (must not fall back to the cloud)", resp.StatusCode, body)
	}
}

func TestStreamedTurn(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/c1/chat", `{"model":"sim-chat","message":"stream me","stream":true}`))
	id := resp.Header.Get("SPASS-Conversation-Id")
	events := sse(t, resp.Body)
	if id == "" || gjson.Get(events[0], "conversation_id").Str != id {
		t.Fatalf("first event %s, header %q", events[0], id)
	}
	if events[len(events)-1] != "[DONE]" || gjson.Get(events[len(events)-2], "usage.total_tokens").Int() == 0 {
		t.Fatalf("last events %v", events[len(events)-2:])
	}
	var text strings.Builder
	for _, e := range events {
		text.WriteString(gjson.Get(e, "choices.0.delta.content").Str)
	}
	// The reply was kept before [DONE]: the next turn sends it.
	turnOK(t, env, `{"conversation_id":"`+id+`","message":"next"}`)
	if got := sentMessages(env, "sim"); len(got) != 3 || got[1] != "assistant:"+text.String() {
		t.Fatalf("after a streamed turn the history is %v (streamed %q)", got, text.String())
	}
}

func TestCutStreamLeavesTheHistoryClean(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	id := turnOK(t, env, `{"model":"sim-chat","message":"one"}`).Get("conversation_id").Str
	env.Sims["sim"].SetFault(simulator.FaultCut)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/c1/chat", `{"conversation_id":"`+id+`","message":"this one is cut, tell me a long story","stream":true}`))
	events := sse(t, resp.Body)
	if last := events[len(events)-1]; gjson.Get(last, "error.code").Str == "" {
		t.Fatalf("cut stream ended with %s", last)
	}
	env.Sims["sim"].SetFault(simulator.FaultNone)
	turnOK(t, env, `{"conversation_id":"`+id+`","message":"three"}`)
	if got := strings.Join(sentMessages(env, "sim"), "|"); got != "user:one|assistant:Hello! You said: one|user:three" {
		t.Fatalf("after a cut turn the history is %s", got)
	}
	resp = gatewaytest.Do(t, env.Request(t, "GET", "/c1/conversations/"+id, ""))
	b, _ := io.ReadAll(resp.Body)
	if st := gjson.GetBytes(b, "data.2.status").Str; st != "failed" || gjson.GetBytes(b, "messages").Int() != 4 {
		t.Fatalf("the cut turn's message is %q: %s", st, b)
	}
}

func TestCallerToolRoundTrip(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	const weather = `[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	first := turnOK(t, env, `{"model":"sim-chat","message":"call get_weather for Paris","tools":`+weather+`}`)
	call := first.Get("message.tool_calls.0")
	if first.Get("finish_reason").Str != "tool_calls" || call.Get("function.name").Str != "get_weather" {
		t.Fatalf("no tool call: %s", first.Raw)
	}
	id := first.Get("conversation_id").Str
	second := turnOK(t, env, `{"conversation_id":"`+id+`","tools":`+weather+`,"messages":[{"role":"tool","tool_call_id":"`+call.Get("id").Str+`","content":"sunny, 21 C"}]}`)
	if second.Get("message.content").Str != "The result is: sunny, 21 C" {
		t.Fatalf("after the tool result: %s", second.Raw)
	}
	sent := gjson.GetBytes(env.Sims["sim"].LastRequest(), "messages").Array()
	if len(sent) != 3 || sent[1].Get("tool_calls.0.id").Str != call.Get("id").Str || sent[2].Get("role").Str != "tool" {
		t.Fatalf("upstream messages %v", sent)
	}
}

func TestOthersConversationsAreNotFound(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	id := turnOK(t, env, `{"model":"sim-chat","message":"alice's secret"}`).Get("conversation_id").Str
	as := func(token, user, method, path, body string) *http.Response {
		req := env.Request(t, method, path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if user == "" {
			req.Header.Del("SPASS-User-Id")
		} else {
			req.Header.Set("SPASS-User-Id", user)
		}
		return gatewaytest.Do(t, req)
	}
	for _, who := range []struct{ token, user string }{{gatewaytest.UserToken, "bob"}, {gatewaytest.OtherToken, "alice"}} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/c1/conversations/" + id, ""},
			{"PATCH", "/c1/conversations/" + id, `{"title":"mine now"}`},
			{"DELETE", "/c1/conversations/" + id, ""},
			{"POST", "/c1/chat", `{"conversation_id":"` + id + `","message":"let me in"}`},
		} {
			resp := as(who.token, who.user, r.method, r.path, r.body)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusNotFound || gjson.GetBytes(b, "error.code").Str != "conversation_not_found" {
				t.Errorf("%s as %s %s: %d %s", who.user, r.method, r.path, resp.StatusCode, b)
			}
		}
		resp := as(who.token, who.user, "GET", "/c1/conversations", "")
		if b, _ := io.ReadAll(resp.Body); strings.Contains(string(b), id) {
			t.Errorf("%s lists alice's conversation: %s", who.user, b)
		}
	}
	// The other tenant's admin reads across its own tenant only; acme's admin sees alice's.
	if b, _ := io.ReadAll(as(gatewaytest.OtherToken, "", "GET", "/c1/conversations", "").Body); strings.Contains(string(b), id) {
		t.Errorf("globex's admin lists acme's conversation: %s", b)
	}
	if b, _ := io.ReadAll(as(gatewaytest.AdminToken, "", "GET", "/c1/conversations/"+id, "").Body); gjson.GetBytes(b, "id").Str != id {
		t.Errorf("acme's admin without a user: %s", b)
	}
	if resp := as(gatewaytest.UserToken, "", "GET", "/c1/conversations", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a user token without SPASS-User-Id: %d", resp.StatusCode)
	}
	// Still there for alice after every attempt.
	if resp := as(gatewaytest.AdminToken, "alice", "GET", "/c1/conversations/"+id, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice's conversation: %d", resp.StatusCode)
	}
}

func TestLaterTurnReplacesSettings(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	id := turnOK(t, env, `{"model":"sim-chat","message":"one","system_prompt":"first","metadata":{"v":1}}`).Get("conversation_id").Str
	turnOK(t, env, `{"conversation_id":"`+id+`","message":"two","system_prompt":"second","metadata":{"v":2}}`)
	if got := sentMessages(env, "sim"); got[0] != "system:second" {
		t.Fatalf("the new system prompt was not sent: %v", got)
	}
	b, _ := io.ReadAll(gatewaytest.Do(t, env.Request(t, "GET", "/c1/conversations/"+id, "")).Body)
	if c := gjson.ParseBytes(b); c.Get("system_prompt").Str != "second" || c.Get("metadata.v").Int() != 2 {
		t.Fatalf("conversation after the change: %s", b)
	}
	if b, _ := io.ReadAll(gatewaytest.Do(t, env.Request(t, "GET", "/c1/conversations", "")).Body); gjson.GetBytes(b, "data.0.metadata.v").Int() != 2 {
		t.Fatalf("listing after the change: %s", b)
	}
}

func TestConcurrentTurnIsRefused(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	id := turnOK(t, env, `{"model":"sim-chat","message":"one"}`).Get("conversation_id").Str
	ok, err := env.App.Store.LeaseConversation(context.Background(), "acme", id, time.Now().Add(time.Minute).UnixMilli())
	if err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	resp, body := post(t, env, `{"conversation_id":"`+id+`","message":"two","system_prompt":"changed","metadata":{"changed":true}}`)
	if resp.StatusCode != http.StatusConflict || gjson.Get(body, "error.code").Str != "conversation_busy" {
		t.Fatalf("a second turn while one runs: %d %s", resp.StatusCode, body)
	}
	// The refused turn changed nothing of the conversation the running turn holds.
	b, _ := io.ReadAll(gatewaytest.Do(t, env.Request(t, "GET", "/c1/conversations/"+id, "")).Body)
	if c := gjson.ParseBytes(b); c.Get("system_prompt").Exists() || c.Get("metadata").Raw != "{}" || c.Get("messages").Int() != 2 {
		t.Fatalf("after a refused turn: %s", b)
	}
}

func TestLongHistoryIsCutToTheWindow(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{YAML: `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
models:
  - {id: sim-chat, context_window: 400, chain: [{backend: sim}]}
`, Sims: []string{"sim"}})
	id := ""
	var last gjson.Result
	for i := range 12 {
		body := `{"model":"sim-chat","message":"turn number ` + strings.Repeat("x", 40) + string(rune('a'+i)) + `"`
		if id != "" {
			body += `,"conversation_id":"` + id + `"`
		}
		last = turnOK(t, env, body+`}`)
		id = last.Get("conversation_id").Str
	}
	left := last.Get("turns_left_out").Int()
	sent := sentMessages(env, "sim")
	if left == 0 || int(left)+len(sent)-1 != 22 || !strings.HasPrefix(sent[0], "user:") {
		t.Fatalf("left out %d, sent %d messages starting %q", left, len(sent), sent[0])
	}
}

func TestBadTurns(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	for body, code := range map[string]string{
		`{"model":"sim-chat"}`:                                                     "missing_parameter",
		`{"model":"sim-chat","message":"x","provider":"mars"}`:                     "invalid_request",
		`{"model":"sim-chat","message":"x","user_id":"u"}`:                         "user_id_not_allowed",
		`{"model":"sim-chat","message":"x","temperature":"hot"}`:                   "invalid_request",
		`{"model":"nope","message":"x"}`:                                           "model_not_found",
		`{"conversation_id":"conv_missing","message":"x"}`:                         "conversation_not_found",
		`{"message":"x","messages":[{"role":"user","content":"sneaky"}]}`:          "invalid_request",
		`{"message":"x","metadata":"not an object"}`:                               "invalid_request",
		`{"message":"x","metadata":[1,2]}`:                                         "invalid_request",
		`{"message":"x","metadata":{"big":"` + strings.Repeat("x", 16<<10) + `"}}`: "invalid_request",
	} {
		resp, b := post(t, env, body)
		if resp.StatusCode < 400 || gjson.Get(b, "error.code").Str != code {
			t.Errorf("%.120s: %d %s, want %s", body, resp.StatusCode, b, code)
		}
	}
	// A null metadata is no metadata, as for the other optional fields.
	if out := turnOK(t, env, `{"message":"x","metadata":null}`); out.Get("conversation_id").Str == "" {
		t.Fatalf("null metadata: %s", out.Raw)
	}
	if resp := gatewaytest.Do(t, env.Request(t, "GET", "/c1/conversations", "")); resp.StatusCode != http.StatusOK {
		t.Fatalf("list after bad turns: %d", resp.StatusCode)
	}
}

// sse reads every data payload of an SSE body.
func sse(t *testing.T, r io.Reader) []string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range strings.Split(string(b), "\n\n") {
		if d, ok := strings.CutPrefix(strings.TrimSpace(e), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}
