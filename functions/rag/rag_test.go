package rag_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
)

// call sends a request with token and returns the status and body.
func call(t *testing.T, env *gatewaytest.Env, token, method, path, body string) (int, gjson.Result) {
	t.Helper()
	req := env.Request(t, method, path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	resp := gatewaytest.Do(t, req)
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, gjson.ParseBytes(b)
}

// must is call that fails the test on another status.
func must(t *testing.T, env *gatewaytest.Env, token, method, path, body string, want int) gjson.Result {
	t.Helper()
	got, out := call(t, env, token, method, path, body)
	if got != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, got, want, out.Raw)
	}
	return out
}

// waitIndexed polls the document until its indexing ended and returns it.
func waitIndexed(t *testing.T, env *gatewaytest.Env, token, index, doc string) gjson.Result {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := must(t, env, token, "GET", "/a1/rag/indices/"+index+"/documents/"+doc, "", http.StatusOK)
		if d.Get("status").Str != "pending" {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %s still pending", doc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIndexDocumentQueryLifecycle(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	admin := gatewaytest.AdminToken
	ix := must(t, env, admin, "POST", "/a1/rag/indices", `{"name":"handbook","description":"ops","dimensions":64,"chunk_size":100}`, http.StatusCreated)
	if ix.Get("embedding_model").Str != "sim-embed" || ix.Get("chunk_overlap").Int() != 25 || !strings.HasPrefix(ix.Get("id").Str, "rix_") {
		t.Fatalf("index: %s", ix.Raw)
	}
	if _, e := call(t, env, admin, "POST", "/a1/rag/indices", `{"name":"handbook"}`); e.Get("error.code").Str != "rag_index_exists" {
		t.Fatalf("same name again: %s", e.Raw)
	}
	added := must(t, env, admin, "POST", "/a1/rag/indices/handbook/documents",
		`{"id":"relay","title":"Orion relay","content":"# Setup\n\nThe Orion relay listens on port 8443.\n\n# Errors\n\nORN-4471 means the handshake was refused; renew the certificate.","content_type":"text/markdown","metadata":{"team":"ops"}}`, http.StatusAccepted)
	if added.Get("id").Str != "relay" || added.Get("status").Str != "pending" {
		t.Fatalf("add: %s", added.Raw)
	}
	must(t, env, admin, "POST", "/a1/rag/indices/handbook/documents",
		`{"content":"<html><head><title>Lunch menu</title></head><body><p>Soup of the day: tomato.</p></body></html>","content_type":"text/html","metadata":{"team":"kitchen"}}`, http.StatusAccepted)
	d := waitIndexed(t, env, admin, "handbook", "relay")
	if d.Get("status").Str != "indexed" || d.Get("chunks").Int() != 2 || !strings.Contains(d.Get("content").Str, "8443") {
		t.Fatalf("indexed: %s", d.Raw)
	}
	list := must(t, env, admin, "GET", "/a1/rag/indices/handbook/documents?limit=1", "", http.StatusOK)
	if len(list.Get("data").Array()) != 1 || !list.Get("has_more").Bool() || list.Get("data.0.content").Exists() {
		t.Fatalf("list: %s", list.Raw)
	}
	next := must(t, env, admin, "GET", "/a1/rag/indices/handbook/documents?after="+list.Get("next_cursor").Str, "", http.StatusOK)
	if len(next.Get("data").Array()) != 1 || next.Get("has_more").Bool() || next.Get("data.0.id").Str <= list.Get("data.0.id").Str {
		t.Fatalf("second page: %s", next.Raw)
	}
	html := list.Get(`data.#(content_type=="text/html")`)
	if !html.Exists() {
		html = next.Get(`data.#(content_type=="text/html")`)
	}
	if html.Get("title").Str != "Lunch menu" {
		t.Fatalf("HTML title: %s %s", list.Raw, next.Raw)
	}
	waitIndexed(t, env, admin, "handbook", html.Get("id").Str)

	for _, mode := range []string{"hybrid", "keyword", "vector"} {
		res := must(t, env, admin, "POST", "/a1/rag/indices/handbook/query", `{"query":"which port does the relay listen on","top_k":1,"mode":"`+mode+`"}`, http.StatusOK)
		top := res.Get("data.0")
		if top.Get("document_id").Str != "relay" || top.Get("chunk_id").Str != "relay:0" || !strings.Contains(top.Get("text").Str, "8443") || top.Get("offset").Int() != 0 {
			t.Fatalf("%s query: %s", mode, res.Raw)
		}
	}
	filtered := must(t, env, admin, "POST", "/a1/rag/indices/handbook/query", `{"query":"relay soup","filter":{"team":"kitchen"}}`, http.StatusOK)
	if n := len(filtered.Get("data").Array()); n != 1 || filtered.Get("data.0.title").Str != "Lunch menu" {
		t.Fatalf("filtered query: %s", filtered.Raw)
	}

	// Metadata only: no re-indexing (200); new content: indexed again (202).
	meta := must(t, env, admin, "PUT", "/a1/rag/indices/handbook/documents/relay",
		`{"title":"Orion relay","content":"# Setup\n\nThe Orion relay listens on port 8443.\n\n# Errors\n\nORN-4471 means the handshake was refused; renew the certificate.","content_type":"text/markdown","metadata":{"team":"platform"}}`, http.StatusOK)
	if meta.Get("status").Str != "indexed" || meta.Get("version").Int() != 1 {
		t.Fatalf("metadata update: %s", meta.Raw)
	}
	must(t, env, admin, "PUT", "/a1/rag/indices/handbook/documents/relay", `{"title":"Orion relay","content":"The relay moved to port 9443."}`, http.StatusAccepted)
	if d := waitIndexed(t, env, admin, "handbook", "relay"); d.Get("version").Int() != 2 || d.Get("chunks").Int() != 1 {
		t.Fatalf("re-indexed: %s", d.Raw)
	}
	res := must(t, env, admin, "POST", "/a1/rag/indices/handbook/query", `{"query":"relay port","mode":"keyword"}`, http.StatusOK)
	if !strings.Contains(res.Get("data.0.text").Str, "9443") || strings.Contains(res.Raw, "8443") {
		t.Fatalf("after the update: %s", res.Raw)
	}

	// The indexing embeddings were billed to the tenant, under a1 and the index.
	rows := env.Ledger(t, "acme")
	billed := 0
	for _, r := range rows {
		if r.Route == "embeddings" && r.Surface == "a1" && r.Ref == ix.Get("id").Str {
			billed++
		}
	}
	if billed < 4 { // three documents versions indexed, plus the queries' embeddings
		t.Fatalf("%d embedding rows under a1/%s in %+v", billed, ix.Get("id").Str, rows)
	}

	// A delete removes the passages at once.
	must(t, env, admin, "DELETE", "/a1/rag/indices/handbook/documents/relay", "", http.StatusOK)
	if res := must(t, env, admin, "POST", "/a1/rag/indices/handbook/query", `{"query":"relay port"}`, http.StatusOK); strings.Contains(res.Raw, "relay") {
		t.Fatalf("deleted document still found: %s", res.Raw)
	}
	got := must(t, env, admin, "GET", "/a1/rag/indices/handbook", "", http.StatusOK)
	if got.Get("documents").Int() != 1 || got.Get("chunks").Int() != 1 {
		t.Fatalf("counts: %s", got.Raw)
	}
	must(t, env, admin, "DELETE", "/a1/rag/indices/handbook", "", http.StatusOK)
	if _, e := call(t, env, admin, "GET", "/a1/rag/indices/handbook", ""); e.Get("error.code").Str != "rag_index_not_found" {
		t.Fatalf("deleted index: %s", e.Raw)
	}
}

func TestRequestsAreChecked(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	admin := gatewaytest.AdminToken
	must(t, env, admin, "POST", "/a1/rag/indices", `{"name":"kb"}`, http.StatusCreated)
	cases := []struct {
		method, path, body string
		status             int
		code, param        string
	}{
		{"POST", "/a1/rag/indices", `{"name":"bad name"}`, 400, "invalid_request", "name"},
		{"POST", "/a1/rag/indices", `{"name":"x","chunk_size":50}`, 400, "invalid_request", "chunk_size"},
		{"POST", "/a1/rag/indices", `{"name":"x","embedding_model":"sim-chat"}`, 404, "model_not_found", "embedding_model"},
		{"POST", "/a1/rag/indices", `{"name":"x","shards":3}`, 400, "invalid_request", "shards"},
		{"POST", "/a1/rag/indices", `{"name":"x","user_id":"bob"}`, 400, "user_id_not_allowed", "user_id"},
		{"POST", "/a1/rag/indices/kb/documents", `{"content":""}`, 400, "invalid_request", "content"},
		{"POST", "/a1/rag/indices/kb/documents", `{"content":"` + strings.Repeat("x", 1<<20+1) + `"}`, 413, "rag_document_too_large", "content"},
		{"POST", "/a1/rag/indices/kb/documents", `{"content":"x","content_type":"application/pdf"}`, 400, "invalid_request", "content_type"},
		{"POST", "/a1/rag/indices/kb/documents", `{"content":"x","metadata":{"nested":{"a":1}}}`, 400, "invalid_request", "metadata"},
		{"POST", "/a1/rag/indices/kb/documents", `{"id":"a/b","content":"x"}`, 400, "invalid_request", "id"},
		{"PUT", "/a1/rag/indices/kb/documents/d1", `{"id":"d2","content":"x"}`, 400, "invalid_request", "id"},
		{"POST", "/a1/rag/indices/kb/query", `{"query":"x","top_k":51}`, 400, "invalid_request", "top_k"},
		{"POST", "/a1/rag/indices/kb/query", `{"query":"x","mode":"fuzzy"}`, 400, "invalid_request", "mode"},
		{"POST", "/a1/rag/indices/kb/query", `{"query":"x","filter":{"team":{"a":1}}}`, 400, "invalid_request", "filter"},
		{"POST", "/a1/rag/indices/kb/query", `{"query":""}`, 400, "invalid_request", "query"},
		{"GET", "/a1/rag/indices/kb/documents?status=lost", "", 400, "invalid_query", "status"},
		{"GET", "/a1/rag/indices/kb/documents/nope", "", 404, "rag_document_not_found", "doc"},
		{"POST", "/a1/rag/indices/nope/query", `{"query":"x"}`, 404, "rag_index_not_found", "index"},
	}
	for _, c := range cases {
		status, out := call(t, env, admin, c.method, c.path, c.body)
		if status != c.status || out.Get("error.code").Str != c.code || out.Get("error.param").Str != c.param {
			t.Errorf("%s %s %.60s: %d %s", c.method, c.path, c.body, status, out.Raw)
		}
	}
	// Without a job runner (a Lambda function without Redis) the document is kept
	// and marked failed with the reason, and can be reindexed later.
	d := must(t, env, admin, "POST", "/a1/rag/indices/kb/documents", `{"id":"d1","content":"text"}`, http.StatusAccepted)
	if d.Get("status").Str != "failed" || !strings.Contains(d.Get("reason").Str, "REDIS_URL") {
		t.Fatalf("without jobs: %s", d.Raw)
	}
}

func TestRolesFollowTheToken(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	must(t, env, gatewaytest.AdminToken, "POST", "/a1/rag/indices", `{"name":"kb"}`, http.StatusCreated)
	must(t, env, gatewaytest.UserToken, "POST", "/a1/rag/indices/kb/documents", `{"id":"d1","content":"written by a user"}`, http.StatusAccepted)
	waitIndexed(t, env, gatewaytest.UserToken, "kb", "d1")
	ro := gatewaytest.ReadOnlyToken
	must(t, env, ro, "GET", "/a1/rag/indices", "", http.StatusOK)
	must(t, env, ro, "GET", "/a1/rag/indices/kb/documents/d1", "", http.StatusOK)
	must(t, env, ro, "POST", "/a1/rag/indices/kb/query", `{"query":"user"}`, http.StatusOK)
	refused := []struct{ token, method, path, body string }{
		{ro, "POST", "/a1/rag/indices/kb/documents", `{"content":"x"}`},
		{ro, "PUT", "/a1/rag/indices/kb/documents/d1", `{"content":"x"}`},
		{ro, "DELETE", "/a1/rag/indices/kb/documents/d1", ""},
		{ro, "POST", "/a1/rag/indices", `{"name":"mine"}`},
		{gatewaytest.UserToken, "POST", "/a1/rag/indices", `{"name":"mine"}`},
		{gatewaytest.UserToken, "DELETE", "/a1/rag/indices/kb", ""},
	}
	for _, r := range refused {
		if status, out := call(t, env, r.token, r.method, r.path, r.body); status != http.StatusForbidden || out.Get("error.code").Str != "permission_denied" {
			t.Errorf("%s %s as %s: %d %s", r.method, r.path, r.token, status, out.Raw)
		}
	}
	if d := must(t, env, ro, "GET", "/a1/rag/indices/kb/documents/d1", "", http.StatusOK); d.Get("content").Str != "written by a user" {
		t.Fatalf("a refused write changed the document: %s", d.Raw)
	}
}
