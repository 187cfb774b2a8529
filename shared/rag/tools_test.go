package rag_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/rag"
	"spass/shared/ragdoc"
	"spass/shared/tools"
)

var (
	acmeAdmin   = identity.Principal{Tenant: "acme", Role: identity.RoleAdmin, Token: "admin", User: "alice"}
	globexAdmin = identity.Principal{Tenant: "globex", Role: identity.RoleTenantAdmin, Token: "other", User: "gina"}
)

// agentCall is an agent turn of p in session.
func agentCall(p identity.Principal, session string) tools.Call {
	return tools.Call{Principal: p, RequestID: "req_" + session, Surface: "a1", Ref: session, Agent: "helper", Session: session}
}

// run runs a tool through the registry, as the tool loop does, and returns its
// result as JSON, or its tool error.
func run(t *testing.T, env *gatewaytest.Env, c tools.Call, name, args string) (gjson.Result, *tools.Error) {
	t.Helper()
	out, err := env.App.Tools.Run(context.Background(), c, name, json.RawMessage(args))
	if err != nil {
		var te *tools.Error
		if !errors.As(err, &te) {
			t.Fatalf("%s: not a tool error: %v", name, err)
		}
		return gjson.Result{}, te
	}
	b, _ := json.Marshal(out)
	return gjson.ParseBytes(b), nil
}

func runOK(t *testing.T, env *gatewaytest.Env, c tools.Call, name, args string) gjson.Result {
	t.Helper()
	out, err := run(t, env, c, name, args)
	if err != nil {
		t.Fatalf("%s %s: %v", name, args, err)
	}
	return out
}

// seed creates p's index with the documents (id -> content) and waits until they
// are indexed.
func seed(t *testing.T, env *gatewaytest.Env, p identity.Principal, index string, docs map[string]string) {
	t.Helper()
	ctx := context.Background()
	s := env.App.RAG
	if _, err := s.CreateIndex(ctx, p, rag.IndexSpec{Name: index}); err != nil {
		t.Fatal(err)
	}
	for id, content := range docs {
		if _, _, err := s.PutDocument(ctx, p, index, rag.DocumentSpec{ID: id, Title: id, Content: content}, false); err != nil {
			t.Fatal(err)
		}
	}
	for id := range docs {
		waitFor(t, env, p, index, id)
	}
}

// waitFor polls a document until its indexing ended.
func waitFor(t *testing.T, env *gatewaytest.Env, p identity.Principal, index, id string) rag.DocumentView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := env.App.RAG.Document(context.Background(), p, index, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != ragdoc.StatusPending {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still pending", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestToolsAreOfferedOnlyWhereTheyCanWork(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	ctx := context.Background()
	available := func(name string, c tools.Call) bool {
		tool, ok := env.App.Tools.Get(name)
		if !ok {
			t.Fatalf("no tool %s", name)
		}
		return tool.Available == nil || tool.Available(ctx, c)
	}
	v1 := tools.Call{Principal: acmeAdmin, Surface: "v1"}
	agent := agentCall(acmeAdmin, "s1")
	if available("rag_query", v1) || available("rag_query", agent) || available("rag_delete_document", agent) {
		t.Fatal("RAG tools offered to a tenant without an index")
	}
	if !available("rag_create_index", agent) || !available("rag_list_indices", agent) || available("rag_create_index", v1) {
		t.Fatal("the index tools are not offered to agents (only)")
	}
	// /v1 chat: the model cannot call rag_query yet.
	prompt := `Use rag_query {\"index\":\"kb\",\"query\":\"port\"}`
	if content := chatContent(t, env, prompt); strings.Contains(content, "8443") {
		t.Fatalf("rag_query ran without an index: %s", content)
	}
	seed(t, env, acmeAdmin, "kb", map[string]string{"relay": "The relay listens on port 8443."})
	if !available("rag_query", v1) || !available("rag_delete_document", agent) || available("rag_delete_document", v1) {
		t.Fatal("after the index: rag_query for all, CRUD for agents")
	}
	if content := chatContent(t, env, prompt); !strings.Contains(content, "8443") {
		t.Fatalf("rag_query did not run: %s", content)
	}
	// globex has no index: nothing is offered to it.
	if available("rag_query", tools.Call{Principal: globexAdmin}) {
		t.Fatal("rag_query offered to globex for acme's index")
	}
}

// chatContent sends a /v1 chat as acme and returns the answer's content.
func chatContent(t *testing.T, env *gatewaytest.Env, prompt string) string {
	t.Helper()
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"`+prompt+`"}]}`))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: %d %s", resp.StatusCode, b)
	}
	return gjson.GetBytes(b, "choices.0.message.content").Str
}

func TestToolsCannotReachAnotherTenant(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	seed(t, env, globexAdmin, "secret", map[string]string{"g1": "The merger closes in March."})
	seed(t, env, acmeAdmin, "mine", map[string]string{"a1": "Acme's own notes."})
	acme := agentCall(acmeAdmin, "s1")
	attempts := []struct{ tool, args string }{
		{"rag_query", `{"index":"secret","query":"merger"}`},
		{"rag_delete_index", `{"index":"secret"}`},
		{"rag_list_documents", `{"index":"secret"}`},
		{"rag_get_document", `{"index":"secret","id":"g1"}`},
		{"rag_add_document", `{"index":"secret","content":"planted"}`},
		{"rag_update_document", `{"index":"secret","id":"g1","content":"hijacked"}`},
		{"rag_delete_document", `{"index":"secret","id":"g1"}`},
		{"rag_reindex", `{"index":"secret"}`},
		{"rag_reindex", `{"index":"secret","id":"g1"}`},
	}
	for _, a := range attempts {
		if _, err := run(t, env, acme, a.tool, a.args); err == nil || err.Code != "rag_index_not_found" {
			t.Errorf("%s %s as acme: %v", a.tool, a.args, err)
		}
	}
	if list := runOK(t, env, acme, "rag_list_indices", `{}`); strings.Contains(list.Raw, "secret") || !strings.Contains(list.Raw, "mine") {
		t.Errorf("acme's list: %s", list.Raw)
	}
	// Without an index argument rag_query searches acme's only index, never globex's.
	if res := runOK(t, env, acme, "rag_query", `{"query":"merger March"}`); res.Get("index").Str != "mine" || strings.Contains(res.Raw, "merger") {
		t.Errorf("acme's default query: %s", res.Raw)
	}
	// Creating "secret" gives acme an index of its own; globex's g1 is still not in it.
	runOK(t, env, acme, "rag_create_index", `{"name":"secret"}`)
	if _, err := run(t, env, acme, "rag_get_document", `{"index":"secret","id":"g1"}`); err == nil || err.Code != "rag_document_not_found" {
		t.Errorf("g1 through acme's own secret: %v", err)
	}
	d, err := env.App.RAG.Document(context.Background(), globexAdmin, "secret", "g1")
	if err != nil || *d.Content != "The merger closes in March." || d.Version != 1 || d.Status != ragdoc.StatusIndexed {
		t.Fatalf("globex's document changed: %+v %v", d, err)
	}
	if ix, _ := env.App.RAG.Index(context.Background(), globexAdmin, "secret"); ix.Documents != 1 {
		t.Fatalf("globex's index: %+v", ix)
	}
}

// TestPassagesForPassiveRAG: what an agent turn with rag_index calls — the best
// passages with their sources, the query's embedding billed under the turn's
// surface and session — and never another tenant's.
func TestPassagesForPassiveRAG(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	seed(t, env, acmeAdmin, "kb", map[string]string{"relay": "The relay listens on port 8443.", "menu": "Soup of the day: tomato."})
	ctx := context.Background()
	opts := chat.Options{Surface: chat.SurfaceA1, Ref: "sess-7", Agent: "helper", Session: "sess-7"}
	ps, err := env.App.RAG.Passages(ctx, acmeAdmin, "kb", "which port does the relay listen on", 1, opts)
	if err != nil || len(ps) != 1 || ps[0].DocumentID != "relay" {
		t.Fatalf("passages: %+v %v", ps, err)
	}
	text := rag.FormatPassages("kb", ps)
	if !strings.Contains(text, "[1] relay (relay)\nThe relay listens on port 8443.") || rag.FormatPassages("kb", nil) != "" {
		t.Fatalf("formatted:\n%s", text)
	}
	billed := false
	for _, r := range env.Ledger(t, "acme") {
		billed = billed || r.Route == "embeddings" && r.Surface == "a1" && r.Ref == "sess-7"
	}
	if !billed {
		t.Fatal("the query's embedding was not billed under the session")
	}
	if _, err := env.App.RAG.Passages(ctx, globexAdmin, "kb", "port", 3, opts); !strings.Contains(fmt.Sprint(err), "rag_index_not_found") {
		t.Fatalf("globex read acme's index: %v", err)
	}
}
