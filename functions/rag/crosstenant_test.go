package rag_test

import (
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

// TestAnotherTenantsIndexIsInvisible: globex's index and documents are out of
// acme's reach on every route, by name and by document id, even where acme has
// an index of the same name; acme's attempts change nothing of globex's.
func TestAnotherTenantsIndexIsInvisible(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	globex, acme := gatewaytest.OtherToken, gatewaytest.AdminToken
	must(t, env, globex, "POST", "/a1/rag/indices", `{"name":"secret"}`, http.StatusCreated)
	must(t, env, globex, "POST", "/a1/rag/indices", `{"name":"shared"}`, http.StatusCreated)
	for _, ix := range []string{"secret", "shared"} {
		must(t, env, globex, "POST", "/a1/rag/indices/"+ix+"/documents", `{"id":"g1","title":"Globex plans","content":"The merger closes in March."}`, http.StatusAccepted)
		waitIndexed(t, env, globex, ix, "g1")
	}
	must(t, env, acme, "POST", "/a1/rag/indices", `{"name":"shared"}`, http.StatusCreated)

	notFound := map[string]string{"secret": "rag_index_not_found", "shared": "rag_document_not_found"}
	for ix, code := range notFound {
		doc := "/a1/rag/indices/" + ix + "/documents/g1"
		attempts := []struct{ method, path, body string }{
			{"GET", doc, ""},
			{"DELETE", doc, ""},
			{"PUT", doc, `{"content":"hijacked"}`}, // last: in "shared" it creates acme's own g1
		}
		if ix == "secret" {
			attempts = append(attempts, []struct{ method, path, body string }{
				{"GET", "/a1/rag/indices/secret", ""},
				{"DELETE", "/a1/rag/indices/secret", ""},
				{"GET", "/a1/rag/indices/secret/documents", ""},
				{"POST", "/a1/rag/indices/secret/documents", `{"content":"planted"}`},
				{"POST", "/a1/rag/indices/secret/query", `{"query":"merger"}`},
			}...)
		}
		for _, a := range attempts {
			status, out := call(t, env, acme, a.method, a.path, a.body)
			if a.method == "PUT" && ix == "shared" {
				// PUT creates in acme's own "shared": globex's g1 is untouched.
				if status != http.StatusAccepted {
					t.Errorf("PUT into acme's own index: %d %s", status, out.Raw)
				}
				continue
			}
			if status != http.StatusNotFound || out.Get("error.code").Str != code {
				t.Errorf("acme %s %s: %d %s", a.method, a.path, status, out.Raw)
			}
		}
	}
	// acme's index of the same name holds only acme's documents.
	if res := must(t, env, acme, "POST", "/a1/rag/indices/shared/query", `{"query":"merger March"}`, http.StatusOK); strings.Contains(res.Raw, "merger") {
		t.Fatalf("acme found globex's text: %s", res.Raw)
	}
	list := must(t, env, acme, "GET", "/a1/rag/indices", "", http.StatusOK)
	if n := len(list.Get("data").Array()); n != 1 || list.Get("data.0.name").Str != "shared" {
		t.Fatalf("acme's indices: %s", list.Raw)
	}
	// globex still has everything.
	for _, ix := range []string{"secret", "shared"} {
		d := must(t, env, globex, "GET", "/a1/rag/indices/"+ix+"/documents/g1", "", http.StatusOK)
		if d.Get("content").Str != "The merger closes in March." || d.Get("version").Int() != 1 {
			t.Fatalf("globex's %s/g1 changed: %s", ix, d.Raw)
		}
		res := must(t, env, globex, "POST", "/a1/rag/indices/"+ix+"/query", `{"query":"merger"}`, http.StatusOK)
		if res.Get("data.0.document_id").Str != "g1" {
			t.Fatalf("globex's %s query: %s", ix, res.Raw)
		}
	}
}
