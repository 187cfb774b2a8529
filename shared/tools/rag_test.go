package tools

import "testing"

func TestRAGQuery(t *testing.T) {
	_, err := execArgs(t, RAGQuery(), `{"index": "handbook", "query": "vacation policy", "top_k": 3}`)
	te := mustToolErr(t, err, "no_index")
	if te.Message != "no RAG index exists yet: indices arrive with agents" {
		t.Errorf("message = %q", te.Message)
	}
	for _, args := range []string{`{"index": "handbook"}`, `{"index": "", "query": "x"}`, `{"index": "h", "query": "x", "top_k": 21}`} {
		_, err := execArgs(t, RAGQuery(), args)
		mustToolErr(t, err, "invalid_arguments")
	}
}
