package agents_test

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestPassiveRAG: an agent with rag_index gets the best passages of its index in
// each turn, with their source, and an agent naming an index its tenant lacks is
// refused.
func TestPassiveRAG(t *testing.T) {
	env := start(t, "")
	env.RunJobs(t)
	if st, out := admin(t, env, "POST", "/a1/rag/indices", `{"name":"handbook"}`); st != 201 {
		t.Fatalf("index: %d %s", st, out.Raw)
	}
	doc := `{"id":"wifi","title":"Office wifi","content":"The office wifi network is called Harbor and its password is kept by the front desk."}`
	if st, out := admin(t, env, "POST", "/a1/rag/indices/handbook/documents", doc); st != 202 {
		t.Fatalf("document: %d %s", st, out.Raw)
	}
	waitFor(t, func() bool {
		_, d := admin(t, env, "GET", "/a1/rag/indices/handbook/documents/wifi", "")
		return d.Get("status").Str == "indexed"
	})
	if st, out := admin(t, env, "POST", "/a1/agents", `{"name":"helpdesk","model":"sim-chat","rag_index":"nope"}`); st != 400 || out.Get("error.param").Str != "rag_index" {
		t.Fatalf("an agent on a missing index: %d %s", st, out.Raw)
	}
	if st, out := admin(t, env, "POST", "/a1/agents", `{"name":"helpdesk","model":"sim-chat","rag_index":"handbook"}`); st != 201 {
		t.Fatalf("agent: %d %s", st, out.Raw)
	}
	id := newSession(t, env, "helpdesk", "")
	if st, out := admin(t, env, "POST", "/a1/sessions/"+id+"/messages", `{"content":"what is the wifi network called?"}`); st != 200 {
		t.Fatalf("turn: %d %s", st, out.Raw)
	}
	var system []string
	for _, m := range gjson.GetBytes(env.Sims["sim"].LastRequest(), "messages").Array() {
		if m.Get("role").Str == "system" {
			system = append(system, m.Get("content").Str)
		}
	}
	if len(system) != 1 || !strings.Contains(system[0], "Harbor") || !strings.Contains(system[0], "Office wifi (wifi)") {
		t.Fatalf("the turn's system messages: %q", system)
	}
}
