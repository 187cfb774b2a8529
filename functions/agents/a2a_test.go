package agents_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// a2aAgent is an agent exposed over A2A, with a stack tool.
const a2aAgent = `{"name":"helper","description":"Answers and computes.","model":"sim-chat","tools":["calculator"],"a2a":true}`

// rpc sends one A2A JSON-RPC request to the agent's endpoint.
func rpc(t *testing.T, env *gatewaytest.Env, agentName, method, params string) gjson.Result {
	t.Helper()
	st, out := admin(t, env, "POST", "/v1/a2a/"+agentName, `{"jsonrpc":"2.0","id":"r1","method":"`+method+`","params":`+params+`}`)
	if st != 200 || out.Get("jsonrpc").Str != "2.0" || out.Get("id").Str != "r1" {
		t.Fatalf("%s: %d %s", method, st, out.Raw)
	}
	return out
}

func userMessage(text, contextID string) string {
	quoted, _ := json.Marshal(text)
	m := `{"message":{"kind":"message","role":"user","messageId":"m-` + text[:3] + `","parts":[{"kind":"text","text":` + string(quoted) + `}]`
	if contextID != "" {
		m += `,"contextId":"` + contextID + `"`
	}
	return m + `}}`
}

func TestA2ARoundTrip(t *testing.T) {
	env := start(t, "")
	if st, out := admin(t, env, "POST", "/a1/agents", a2aAgent); st != 201 {
		t.Fatalf("create: %d %s", st, out.Raw)
	}

	// Discovery: only exposed agents have cards (the file agent researcher is not).
	st, list := admin(t, env, "GET", "/v1/a2a", "")
	if st != 200 || len(list.Get("data").Array()) != 1 || list.Get("data.0.name").Str != "helper" {
		t.Fatalf("list: %d %s", st, list.Raw)
	}
	st, card := admin(t, env, "GET", "/v1/a2a/helper/.well-known/agent-card.json", "")
	if st != 200 || card.Get("protocolVersion").Str != "0.3.0" || card.Get("url").Str != env.URL+"/v1/a2a/helper" ||
		!card.Get("capabilities.streaming").Bool() || card.Get("preferredTransport").Str != "JSONRPC" || card.Get("skills.0.id").Str != "helper" {
		t.Fatalf("card: %d %s", st, card.Raw)
	}
	if st, _ := admin(t, env, "GET", "/v1/a2a/researcher/.well-known/agent-card.json", ""); st != 404 {
		t.Fatalf("a card of an agent not exposed: %d", st)
	}
	if st, _ := call(t, env, gatewaytest.OtherToken, "bob", "GET", "/v1/a2a/helper/.well-known/agent-card.json", ""); st != 404 {
		t.Fatalf("another tenant reads the card: %d", st)
	}

	// message/send: a task, completed, whose contextId is an /a1 session.
	sent := rpc(t, env, "helper", "message/send", userMessage(`calculator {"expression":"6*7"}`, ""))
	task := sent.Get("result")
	if task.Get("kind").Str != "task" || task.Get("status.state").Str != "completed" || !strings.Contains(task.Get("artifacts.0.parts.0.text").Str, "42") ||
		task.Get("history.#").Int() != 2 || task.Get("history.1.role").Str != "agent" {
		t.Fatalf("send: %s", sent.Raw)
	}
	ctxID, taskID := task.Get("contextId").Str, task.Get("id").Str
	if st, sess := admin(t, env, "GET", "/a1/sessions/"+ctxID+"/messages", ""); st != 200 || len(sess.Get("data").Array()) != 2 {
		t.Fatalf("the session of the context: %d %s", st, sess.Raw)
	}

	// tasks/get: the same task, history trimmed on request; another tenant finds none.
	got := rpc(t, env, "helper", "tasks/get", `{"id":"`+taskID+`","historyLength":1}`).Get("result")
	if got.Get("id").Str != taskID || got.Get("status.state").Str != "completed" || got.Get("history.#").Int() != 1 {
		t.Fatalf("get: %s", got.Raw)
	}
	if rpc(t, env, "helper", "tasks/get", `{"id":"task_nope"}`).Get("error.code").Int() != -32001 {
		t.Fatal("an unknown task is not TaskNotFound")
	}
	// Another user of the tenant finds neither the task nor the context.
	st, bob := call(t, env, gatewaytest.UserToken, "bob", "POST", "/v1/a2a/helper", `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"`+taskID+`"}}`)
	if st != 200 || bob.Get("error.code").Int() != -32001 {
		t.Fatalf("another user's tasks/get: %d %s", st, bob.Raw)
	}
	st, bob = call(t, env, gatewaytest.UserToken, "bob", "POST", "/v1/a2a/helper", `{"jsonrpc":"2.0","id":1,"method":"message/send","params":`+userMessage("hello", ctxID)+`}`)
	if st != 200 || bob.Get("error.code").Int() != -32602 {
		t.Fatalf("another user's context: %d %s", st, bob.Raw)
	}
	if st, _ := call(t, env, gatewaytest.AdminToken, "", "POST", "/v1/a2a/helper", `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"x"}}`); st != 400 {
		t.Fatalf("without SPASS-User-Id: %d", st)
	}

	// message/stream in the same context: the task, artifact chunks, the final status.
	req := env.Request(t, "POST", "/v1/a2a/helper", `{"jsonrpc":"2.0","id":7,"method":"message/stream","params":`+userMessage("Tell me a short story.", ctxID)+`}`)
	resp := gatewaytest.Do(t, req)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []gjson.Result
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, gjson.Parse(data))
		}
	}
	if len(events) < 3 || events[0].Get("result.kind").Str != "task" || events[0].Get("id").Int() != 7 {
		t.Fatalf("stream events %v", events)
	}
	var text strings.Builder
	for i, e := range events[1 : len(events)-1] {
		r := e.Get("result")
		if r.Get("kind").Str != "artifact-update" || r.Get("append").Bool() != (i > 0) || r.Get("contextId").Str != ctxID {
			t.Fatalf("event %d: %s", i+1, e.Raw)
		}
		text.WriteString(r.Get("artifact.parts.0.text").Str)
	}
	last := events[len(events)-1].Get("result")
	if !events[len(events)-2].Get("result.lastChunk").Bool() || last.Get("kind").Str != "status-update" || !last.Get("final").Bool() ||
		last.Get("status.state").Str != "completed" || last.Get("status.message.parts.0.text").Str != text.String() || text.Len() == 0 {
		t.Fatalf("stream end: %s (text %q)", last.Raw, text.String())
	}

	// tasks/cancel: a finished task is not cancelable; a running one is canceled.
	if e := rpc(t, env, "helper", "tasks/cancel", `{"id":"`+taskID+`"}`).Get("error.code").Int(); e != -32002 {
		t.Fatalf("cancel a completed task: %d", e)
	}
	env.Sims["sim"].SetFault(simulator.FaultHang)
	working := rpc(t, env, "helper", "message/send", `{"message":{"role":"user","messageId":"m-slow","parts":[{"kind":"text","text":"take your time"}]},"configuration":{"blocking":false}}`).Get("result")
	if working.Get("status.state").Str != "working" {
		t.Fatalf("non-blocking send: %s", working.Raw)
	}
	canceled := rpc(t, env, "helper", "tasks/cancel", `{"id":"`+working.Get("id").Str+`"}`).Get("result")
	if canceled.Get("status.state").Str != "canceled" {
		t.Fatalf("cancel: %s", canceled.Raw)
	}
	env.Sims["sim"].SetFault(simulator.FaultNone)
	if s := rpc(t, env, "helper", "tasks/get", `{"id":"`+working.Get("id").Str+`"}`).Get("result.status.state").Str; s != "canceled" {
		t.Fatalf("after cancel: %s", s)
	}

	// JSON-RPC errors: unknown method, bad params, a non-text part.
	for _, c := range []struct {
		method, params string
		code           int64
	}{
		{"tasks/resubscribe", `{"id":"x"}`, -32601},
		{"message/send", `{"message":{"role":"agent","messageId":"x","parts":[{"kind":"text","text":"hi"}]}}`, -32602},
		{"message/send", `{"message":{"role":"user","messageId":"x","parts":[{"kind":"file","file":{"uri":"https://x"}}]}}`, -32005},
	} {
		if got := rpc(t, env, "helper", c.method, c.params).Get("error.code").Int(); got != c.code {
			t.Errorf("%s %s: code %d, want %d", c.method, c.params, got, c.code)
		}
	}
}
