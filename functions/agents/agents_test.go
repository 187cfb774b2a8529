package agents_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
)

// fileAgent is an agent the operator keeps in the agents directory.
const fileAgent = `name: researcher
description: answers with sources
model: sim-chat
system_prompt: You answer with sources.
tools: [calculator, datetime, memory_save, memory_recall]
temperature: 0.2
max_rounds: 4
compaction: {threshold: 0.8, keep_last_turns: 2}
session_overrides: [temperature, model]
`

func start(t *testing.T, yaml string) *gatewaytest.Env {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "researcher.yaml"), []byte(fileAgent), 0o600); err != nil {
		t.Fatal(err)
	}
	s := gatewaytest.Setup{Env: map[string]string{"SPASS_AGENTS_DIR": dir}}
	if yaml != "" {
		s.YAML, s.Sims = yaml, []string{"sim"}
	}
	return gatewaytest.Start(t, s)
}

// call sends a request as token/user and returns the status and body.
func call(t *testing.T, env *gatewaytest.Env, token, user, method, path, body string) (int, gjson.Result) {
	t.Helper()
	req := env.Request(t, method, path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if user == "" {
		req.Header.Del("SPASS-User-Id")
	} else {
		req.Header.Set("SPASS-User-Id", user)
	}
	resp := gatewaytest.Do(t, req)
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, gjson.ParseBytes(b)
}

func admin(t *testing.T, env *gatewaytest.Env, method, path, body string) (int, gjson.Result) {
	return call(t, env, gatewaytest.AdminToken, "alice", method, path, body)
}

func TestAgentDefinitions(t *testing.T) {
	env := start(t, "")
	if st, out := admin(t, env, "GET", "/a1/agents/researcher", ""); st != 200 || out.Get("source").Str != "file" || out.Get("tools.0").Str != "calculator" {
		t.Fatalf("file agent: %d %s", st, out.Raw)
	}
	yamlAgent := "name: helper\nmodel: sim-chat\ntools: [calculator]\nsession_overrides: [system_prompt]\n"
	if st, out := admin(t, env, "POST", "/a1/agents", yamlAgent); st != 201 || out.Get("source").Str != "api" {
		t.Fatalf("create from YAML: %d %s", st, out.Raw)
	}
	for body, key := range map[string]string{
		`{"name":"x","model":"sim-chat","tools":["rm_rf"]}`:             "tools",
		`{"name":"x","model":"sim-chat","temprature":0.3}`:              "",
		`{"name":"x","model":"sim-chat","temperature":7}`:               "temperature",
		`{"name":"Bad Name","model":"sim-chat"}`:                        "name",
		`{"name":"x","model":"nope"}`:                                   "model",
		`{"name":"x","model":"sim-chat","session_overrides":["tools"]}`: "session_overrides[0]",
	} {
		st, out := admin(t, env, "POST", "/a1/agents", body)
		if st != 400 || out.Get("error.code").Str != "invalid_agent" || (key != "" && out.Get("error.param").Str != key) {
			t.Errorf("%s: %d %s, want invalid_agent at %q", body, st, out.Raw, key)
		}
	}
	if st, out := admin(t, env, "POST", "/a1/agents", `{"name":"researcher","model":"sim-chat"}`); st != 409 || out.Get("error.code").Str != "agent_exists" {
		t.Fatalf("shadowing a file agent: %d %s", st, out.Raw)
	}
	if st, out := admin(t, env, "DELETE", "/a1/agents/researcher", ""); st != 403 || out.Get("error.code").Str != "agent_read_only" {
		t.Fatalf("deleting a file agent: %d %s", st, out.Raw)
	}
	if st, _ := admin(t, env, "PUT", "/a1/agents/helper", `{"model":"sim-chat","tools":[]}`); st != 200 {
		t.Fatalf("replace: %d", st)
	}
	if st, out := call(t, env, gatewaytest.UserToken, "bob", "POST", "/a1/agents", `{"name":"mine","model":"sim-chat"}`); st != 403 {
		t.Fatalf("a user defines an agent: %d %s", st, out.Raw)
	}
	// Another tenant sees the shared file agent, never acme's own.
	if st, _ := call(t, env, gatewaytest.OtherToken, "", "GET", "/a1/agents/helper", ""); st != 404 {
		t.Fatalf("globex reads acme's agent: %d", st)
	}
	if _, out := call(t, env, gatewaytest.OtherToken, "", "GET", "/a1/agents", ""); strings.Contains(out.Raw, "helper") || !strings.Contains(out.Raw, "researcher") {
		t.Fatalf("globex's list: %s", out.Raw)
	}
	if st, _ := call(t, env, gatewaytest.OtherToken, "", "DELETE", "/a1/agents/helper", ""); st != 404 {
		t.Fatalf("globex deletes acme's agent: %d", st)
	}
	if st, _ := admin(t, env, "DELETE", "/a1/agents/helper", ""); st != 200 {
		t.Fatalf("delete: %d", st)
	}
}

func newSession(t *testing.T, env *gatewaytest.Env, agentName, body string) string {
	t.Helper()
	st, out := admin(t, env, "POST", "/a1/agents/"+agentName+"/sessions", body)
	if st != 201 || out.Get("id").Str == "" {
		t.Fatalf("session: %d %s", st, out.Raw)
	}
	return out.Get("id").Str
}

func TestTurnRunsTheAgentsTools(t *testing.T) {
	env := start(t, "")
	id := newSession(t, env, "researcher", `{"overrides":{"temperature":0.5}}`)
	st, out := admin(t, env, "POST", "/a1/sessions/"+id+"/messages", `{"content":"use the calculator {\"expression\": \"6*7\"}"}`)
	if st != 200 || !strings.Contains(out.Get("message.content").Str, "42") || out.Get("steps.0.tool").Str != "calculator" ||
		!strings.Contains(out.Get("steps.0.result").Raw, "42") || out.Get("usage.total_tokens").Int() == 0 {
		t.Fatalf("turn: %d %s", st, out.Raw)
	}
	sent := gjson.GetBytes(env.Sims["sim"].LastRequest(), "tools.#.function.name").Array()
	names := []string{}
	for _, n := range sent {
		names = append(names, n.Str)
	}
	if strings.Join(names, ",") != "calculator,datetime,memory_recall,memory_save" {
		t.Fatalf("the model was offered %v, not the agent's tools", names)
	}
	if temp := gjson.GetBytes(env.Sims["sim"].LastRequest(), "temperature").Float(); temp != 0.5 {
		t.Fatalf("the session's temperature override: %v", temp)
	}
	if st, out := admin(t, env, "POST", "/a1/agents/researcher/sessions", `{"overrides":{"max_tokens":5}}`); st != 400 || out.Get("error.param").Str != "max_tokens" {
		t.Fatalf("an override the agent does not allow: %d %s", st, out.Raw)
	}
	for _, r := range env.Ledger(t, "acme") {
		if r.Surface != "a1" || r.Ref != id || r.Agent != "researcher" {
			t.Fatalf("ledger row %+v", r)
		}
	}
	_, msgs := admin(t, env, "GET", "/a1/sessions/"+id+"/messages", "")
	if n := len(msgs.Get("data").Array()); n != 2 || msgs.Get("data.1.steps.0.tool").Str != "calculator" {
		t.Fatalf("stored messages: %s", msgs.Raw)
	}
}

func TestStreamedTurnShowsSteps(t *testing.T) {
	env := start(t, "")
	id := newSession(t, env, "researcher", "")
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/a1/sessions/"+id+"/messages", `{"content":"use the calculator {\"expression\": \"2+2\"}","stream":true}`))
	b, _ := io.ReadAll(resp.Body)
	var events []string
	for _, e := range strings.Split(string(b), "\n\n") {
		if d, ok := strings.CutPrefix(strings.TrimSpace(e), "data: "); ok {
			events = append(events, d)
		}
	}
	if len(events) < 4 || gjson.Get(events[0], "object").Str != "agent.turn.start" || events[len(events)-1] != "[DONE]" {
		t.Fatalf("events %v", events)
	}
	steps, text := 0, ""
	for _, e := range events {
		if gjson.Get(e, "object").Str == "agent.step" && gjson.Get(e, "tool").Str == "calculator" {
			steps++
		}
		text += gjson.Get(e, "choices.0.delta.content").Str
	}
	if steps != 1 || !strings.Contains(text, "4") {
		t.Fatalf("%d steps, text %q", steps, text)
	}
}

func TestOthersSessionsAreNotFound(t *testing.T) {
	env := start(t, "")
	id := newSession(t, env, "researcher", "")
	for _, who := range []struct{ token, user string }{{gatewaytest.UserToken, "bob"}, {gatewaytest.OtherToken, "alice"}} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/a1/sessions/" + id, ""},
			{"GET", "/a1/sessions/" + id + "/messages", ""},
			{"GET", "/a1/sessions/" + id + "/lineage", ""},
			{"POST", "/a1/sessions/" + id + "/messages", `{"content":"hi"}`},
			{"POST", "/a1/sessions/" + id + "/compact", ""},
			{"DELETE", "/a1/sessions/" + id, ""},
		} {
			if st, out := call(t, env, who.token, who.user, r.method, r.path, r.body); st != 404 || out.Get("error.code").Str != "session_not_found" {
				t.Errorf("%s %s %s: %d %s", who.user, r.method, r.path, st, out.Raw)
			}
		}
		if _, out := call(t, env, who.token, who.user, "GET", "/a1/agents/researcher/sessions", ""); strings.Contains(out.Raw, id) {
			t.Errorf("%s lists alice's session", who.user)
		}
	}
	if st, _ := admin(t, env, "GET", "/a1/sessions/"+id, ""); st != 200 {
		t.Fatalf("alice's session after the attempts: %d", st)
	}
}

func TestConcurrentTurnIsRefused(t *testing.T) {
	env := start(t, "")
	id := newSession(t, env, "researcher", "")
	if ok, err := env.App.Store.LeaseSession(context.Background(), "acme", id, time.Now().Add(time.Minute).UnixMilli()); !ok || err != nil {
		t.Fatalf("lease %v %v", ok, err)
	}
	for _, path := range []string{"/messages", "/compact"} {
		st, out := admin(t, env, "POST", "/a1/sessions/"+id+path, `{"content":"hi"}`)
		if st != 409 || out.Get("error.code").Str != "session_busy" {
			t.Fatalf("%s while a turn runs: %d %s", path, st, out.Raw)
		}
	}
}
