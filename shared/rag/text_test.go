package rag

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"spass/shared/ragdoc"
)

func TestExtractHTMLKeepsVisibleTextInParagraphs(t *testing.T) {
	doc := `<!doctype html><html><head><title> Relay  guide </title><style>p{color:red}</style>
<script>var secret = "not text";</script></head><body><nav>Home</nav>
<h1>Orion relay</h1><p>The relay listens on <b>port 8443</b>.<p>Unclosed paragraph &amp; entity
<table><tr><td>a</td><td>b</td></tr></table><img alt="diagram of the relay"><noscript>enable js</noscript>`
	text, title := Extract(ragdoc.TypeHTML, doc)
	if title != "Relay guide" {
		t.Errorf("title %q", title)
	}
	want := "Home\n\nOrion relay\n\nThe relay listens on port 8443.\n\nUnclosed paragraph & entity\n\na b\n\ndiagram of the relay"
	if text != want {
		t.Errorf("text:\n%q\nwant\n%q", text, want)
	}
	for _, hidden := range []string{"secret", "color", "enable js"} {
		if strings.Contains(text, hidden) {
			t.Errorf("hidden text %q extracted", hidden)
		}
	}
	if text, _ := Extract(ragdoc.TypeMarkdown, "# A\r\n\r\nb"); text != "# A\n\nb" {
		t.Errorf("markdown newlines: %q", text)
	}
}

func TestChunksRespectSizeBoundariesAndOffsets(t *testing.T) {
	text := "# Setup\n\nThe relay listens on port 8443. It needs a TLS certificate.\n\n" +
		"# Errors\n\n" + strings.Repeat("Error ORN-4471 means the upstream refused the handshake. ", 12) + "\n\nShort tail."
	size, overlap := 200, 60
	chunks := Chunks(text, size, overlap)
	if len(chunks) < 4 {
		t.Fatalf("got %d chunks", len(chunks))
	}
	runes := []rune(text)
	for i, c := range chunks {
		if n := utf8.RuneCountInString(c.Text); n > size || n == 0 {
			t.Errorf("chunk %d has %d characters", i, n)
		}
		if c.Seq != i || string(runes[c.Offset:c.Offset+utf8.RuneCountInString(c.Text)]) != c.Text {
			t.Errorf("chunk %d: seq %d offset %d does not point at its text", i, c.Seq, c.Offset)
		}
		if i > 0 && c.Offset <= chunks[i-1].Offset {
			t.Errorf("chunk %d does not move forward", i)
		}
	}
	if !strings.HasPrefix(chunks[0].Text, "# Setup") || strings.Contains(chunks[0].Text, "ORN") && len(chunks[0].Text) > size {
		t.Errorf("first chunk %q", chunks[0].Text)
	}
	// Sentences of the long paragraph overlap from one chunk to the next.
	if !strings.Contains(chunks[2].Text, strings.SplitN(chunks[3].Text, ".", 2)[0]) {
		t.Errorf("no overlap between %q and %q", chunks[2].Text, chunks[3].Text)
	}
	// One word wider than a chunk is cut inside.
	long := Chunks(strings.Repeat("x", 250), 100, 0)
	if len(long) != 3 || long[2].Offset != 200 {
		t.Errorf("a long word: %+v", long)
	}
	if got := Chunks("  \n\n ", 100, 10); len(got) != 0 {
		t.Errorf("blank text gave %d chunks", len(got))
	}
}

func TestDiffShowsTheChangeWithContext(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\n"
	diff, added, removed := Diff(old, "a\nb\nc\nd\nE\nf\ng\nh\ni\n", 1000)
	want := "@@ -2,7 +2,8 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n+i\n"
	if diff != want || added != 2 || removed != 1 {
		t.Errorf("diff (+%d -%d):\n%s\nwant:\n%s", added, removed, diff, want)
	}
	if d, _, _ := Diff(old, old, 1000); d != "" {
		t.Errorf("equal texts differ: %q", d)
	}
	big, _, _ := Diff(strings.Repeat("x\n", 5000), strings.Repeat("y\n", 5000), 100)
	if len(big) > 160 || !strings.Contains(big, "diff clipped") {
		t.Errorf("clipped diff: %q", big)
	}
}

func TestFuseRanksAgreementFirst(t *testing.T) {
	kw := []ranked{{1, 10}, {2, 8}, {3, 5}} // equally confident lists: plain RRF
	vec := []ranked{{3, 1}, {4, 0.8}, {1, 0.5}}
	var got []int64
	for _, r := range fuse(kw, vec) {
		got = append(got, r.rowid)
	}
	// 1: 1/61+1/63, 3: 1/63+1/61 (tie: best rank 0 in both; keyword list first), then 2 and 4 tie on rank 1.
	want := []int64{1, 3, 2, 4}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	// A list whose scores are flat carries no order: the other decides.
	flat := []ranked{{5, 3}, {6, 3}, {7, 3}}
	if got := fuse(flat, []ranked{{7, 0.9}, {6, 0.5}}); got[0].rowid != 7 || got[1].rowid != 6 || got[2].rowid != 5 {
		t.Errorf("a flat keyword list decided: %+v", got)
	}
	if terms := ftsTerms(`What is "ORN-4471"? the THE`); terms != `"orn" OR "4471"` {
		t.Errorf("terms %s", terms)
	}
	if terms := ftsTerms("the"); terms != `"the"` {
		t.Errorf("stop words only: %s", terms)
	}
}

func TestNearestKeepsTheBest(t *testing.T) {
	v := &ragdoc.Vectors{Dims: 2, RowIDs: []int64{10, 11, 12, 13}, Docs: []string{"a", "b", "c", "d"},
		Data: []float32{1, 0, 0, 1, 0.8, 0.6, -1, 0}}
	got := nearest(v, []float32{1, 0}, 2, nil)
	if len(got) != 2 || v.RowIDs[got[0].row] != 10 || v.RowIDs[got[1].row] != 12 {
		t.Fatalf("nearest: %+v", got)
	}
	got = nearest(v, []float32{1, 0}, 2, map[string]bool{"b": true, "d": true})
	if len(got) != 2 || v.RowIDs[got[0].row] != 11 || v.RowIDs[got[1].row] != 13 {
		t.Fatalf("nearest with filter: %+v", got)
	}
}

// TestNearestInShardsMatchesOnePass: the parallel scoring of a large index finds
// the same rows, in the same order, as one pass over all of them.
func TestNearestInShardsMatchesOnePass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const rows, dims = 5000, 256 // past parallelWork
	v := &ragdoc.Vectors{Dims: dims, RowIDs: make([]int64, rows), Docs: make([]string, rows), Data: make([]float32, rows*dims)}
	for i := range v.Data {
		v.Data[i] = float32(rng.NormFloat64())
	}
	for i := range rows {
		v.RowIDs[i], v.Docs[i] = int64(i), "d"
		normalize(v.Data[i*dims : (i+1)*dims])
	}
	q := append([]float32(nil), v.Data[42*dims:43*dims]...)
	got := nearest(v, q, 10, nil)
	want := topN(v, q, 10, nil, 0, rows)
	slices.SortFunc(want, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	if len(got) != 10 || got[0].row != 42 {
		t.Fatalf("nearest: %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rank %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
