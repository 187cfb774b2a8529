package rag_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/chat"
	"spass/shared/rag"
	"spass/shared/ragdoc"
)

// benchDims is the embedding size of the benchmark's indices: local embedding
// models answer 384 to 1024; 256 keeps 100,000 vectors at 100 MiB.
const benchDims = 256

// quiet drops the log lines of every job and request while a benchmark runs, so
// `make bench` prints its results, not thousands of "job started".
func quiet(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
}

// vocabulary is n made-up words, each two to four syllables.
func vocabulary(rng *rand.Rand, n int) []string {
	syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "den", "par", "quo", "zel", "tor", "fin", "gra", "bel"}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// seedIndex creates an index of n chunks (100 per document) written straight to
// the store in one transaction, each chunk 50 words drawn from a Zipf
// distribution (as words of text are), embedded as the simulator would. It
// returns the chunks' texts, which queries are drawn from.
func seedIndex(b *testing.B, env *gatewaytest.Env, name string, n int) []string {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	words := vocabulary(rng, 8000)
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
	ix, err := env.App.RAG.CreateIndex(ctx, acmeAdmin, rag.IndexSpec{Name: name, Dimensions: benchDims})
	if err != nil {
		b.Fatal(err)
	}
	texts := make([]string, n)
	var docs []ragdoc.DocChunks
	for i := range n {
		var t strings.Builder
		for w := range 50 {
			if w > 0 {
				t.WriteByte(' ')
			}
			t.WriteString(words[zipf.Uint64()])
		}
		texts[i] = t.String()
		if i%100 == 0 {
			id := fmt.Sprintf("doc-%06d", i/100)
			if _, _, _, err := env.App.Store.PutRAGDocument(ctx, "acme", ragdoc.Document{ID: id, IndexID: ix.ID, Title: id,
				ContentType: ragdoc.TypeText, Content: "seeded"}, false); err != nil {
				b.Fatal(err)
			}
			docs = append(docs, ragdoc.DocChunks{DocumentID: id, Version: 1})
		}
		d := &docs[len(docs)-1]
		d.Chunks = append(d.Chunks, ragdoc.Chunk{Seq: len(d.Chunks), Offset: 0, Text: texts[i], Embedding: simulator.EmbedText(texts[i], benchDims)})
	}
	if _, err := env.App.Store.SaveRAGChunks(ctx, "acme", ix.ID, docs); err != nil {
		b.Fatal(err)
	}
	return texts
}

// BenchmarkRAGQuery measures a query's latency — embedding the query through
// the chat core (the simulator on loopback), FTS5, scoring every vector, fusion,
// reading the passages back — at 10,000 and 100,000 chunks, per mode, and reports
// its p50 and p99. Run with a fixed count: -benchtime 200x.
func BenchmarkRAGQuery(b *testing.B) {
	quiet(b)
	env := gatewaytest.Start(b, gatewaytest.Setup{})
	ctx := context.Background()
	for _, n := range []int{10_000, 100_000} {
		name := fmt.Sprintf("chunks-%d", n)
		start := time.Now()
		texts := seedIndex(b, env, name, n)
		b.Logf("seeded %d chunks in %v", n, time.Since(start).Round(time.Millisecond))
		for _, mode := range []string{rag.ModeHybrid, rag.ModeKeyword, rag.ModeVector} {
			b.Run(fmt.Sprintf("chunks=%d/mode=%s", n, mode), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				query := func() string { // five words of a random chunk
					w := strings.Fields(texts[rng.IntN(len(texts))])
					start := rng.IntN(len(w) - 5)
					return strings.Join(w[start:start+5], " ")
				}
				q := func(text string) {
					ps, err := env.App.RAG.Query(ctx, acmeAdmin, name, rag.QueryRequest{Query: text, TopK: 5, Mode: mode}, chat.Options{Surface: chat.SurfaceA1})
					if err != nil || len(ps) == 0 {
						b.Fatalf("query %q: %d passages, %v", text, len(ps), err)
					}
				}
				q(query()) // loads the index's vectors into the cache
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					text := query()
					t0 := time.Now()
					q(text)
					lat = append(lat, time.Since(t0))
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

// BenchmarkRAGIndexing measures indexing throughput through the whole path: a
// document stored, its rag:index job run by the in-process runner, chunked,
// embedded through the chat core (simulator, billed), and written. Each
// iteration indexes 50 documents of 20 chunks; the result is chunks per second
// (-benchtime 20x).
func BenchmarkRAGIndexing(b *testing.B) {
	quiet(b)
	env := gatewaytest.Start(b, gatewaytest.Setup{})
	env.RunJobs(b)
	ctx, s := context.Background(), env.App.RAG
	if _, err := s.CreateIndex(ctx, acmeAdmin, rag.IndexSpec{Name: "ingest", Dimensions: benchDims, ChunkSize: 500}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	words := vocabulary(rng, 8000)
	paragraph := func() string { // about 480 characters: one chunk
		var t strings.Builder
		for t.Len() < 470 {
			t.WriteString(words[rng.IntN(len(words))] + " ")
		}
		return strings.TrimSpace(t.String()) + "."
	}
	const docs, perDoc = 50, 20
	var total int
	b.ResetTimer()
	for i := range b.N {
		var ids []string
		for d := range docs {
			paras := make([]string, perDoc)
			for p := range paras {
				paras[p] = paragraph()
			}
			id := fmt.Sprintf("d%d-%d", i, d)
			if _, _, err := s.PutDocument(ctx, acmeAdmin, "ingest", rag.DocumentSpec{ID: id, Content: strings.Join(paras, "\n\n")}, false); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			for {
				d, err := s.Document(ctx, acmeAdmin, "ingest", id)
				if err != nil || d.Status == ragdoc.StatusFailed {
					b.Fatalf("%s: %v %s", id, err, d.Reason)
				}
				if d.Status == ragdoc.StatusIndexed {
					total += d.Chunks
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "chunks/s")
}
