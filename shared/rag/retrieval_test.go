package rag_test

import (
	"context"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/chat"
	"spass/shared/rag"
)

// TestRetrievalRecall indexes the corpus (corpus_test.go) through the whole
// pipeline — documents, rag:index jobs, the simulator's embeddings through the
// chat core — and measures recall@3 of each mode over the 50 questions: a
// question counts when one of the top three passages is from its document and
// holds its answer. Hybrid must do at least as well as the better of the two.
func TestRetrievalRecall(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	ctx, s := context.Background(), env.App.RAG
	overlap := 0
	if _, err := s.CreateIndex(ctx, acmeAdmin, rag.IndexSpec{Name: "runbooks", Dimensions: 256, ChunkSize: 300, ChunkOverlap: &overlap}); err != nil {
		t.Fatal(err)
	}
	books, questions := corpus()
	if len(books) < 200 || len(questions) != 50 {
		t.Fatalf("%d documents, %d questions", len(books), len(questions))
	}
	for _, b := range books {
		if _, _, err := s.PutDocument(ctx, acmeAdmin, "runbooks", rag.DocumentSpec{ID: b.id, Title: b.title, Content: b.markdown(), ContentType: "text/markdown",
			Metadata: []byte(`{"family":"` + b.family + `"}`)}, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range books {
		if d := waitFor(t, env, acmeAdmin, "runbooks", b.id); d.Status != "indexed" {
			t.Fatalf("%s: %s %s", b.id, d.Status, d.Reason)
		}
	}
	recall := map[string]float64{}
	perKind := map[string]map[string]int{}
	for _, mode := range []string{rag.ModeKeyword, rag.ModeVector, rag.ModeHybrid} {
		perKind[mode] = map[string]int{}
		found := 0
		for _, q := range questions {
			ps, err := s.Query(ctx, acmeAdmin, "runbooks", rag.QueryRequest{Query: q.text, TopK: 3, Mode: mode}, chat.Options{Surface: chat.SurfaceA1})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.DocumentID == q.doc && strings.Contains(p.Text, q.answer) {
					found++
					perKind[mode][q.kind]++
					break
				}
			}
		}
		recall[mode] = float64(found) / float64(len(questions))
	}
	for _, mode := range []string{rag.ModeKeyword, rag.ModeVector, rag.ModeHybrid} {
		t.Logf("recall@3 %-7s %.2f  (plain %d/20, misspelt %d/15, codes %d/15)", mode, recall[mode],
			perKind[mode]["plain"], perKind[mode]["misspelt"], perKind[mode]["code"])
	}
	if best := max(recall[rag.ModeKeyword], recall[rag.ModeVector]); recall[rag.ModeHybrid] < best {
		t.Fatalf("hybrid recall@3 %.2f is below the better single mode's %.2f", recall[rag.ModeHybrid], best)
	}
	if recall[rag.ModeHybrid] < 0.8 {
		t.Fatalf("hybrid recall@3 %.2f: retrieval does not work", recall[rag.ModeHybrid])
	}
}
