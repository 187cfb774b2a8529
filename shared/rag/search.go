package rag

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"spass/shared/apierr"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/ragdoc"
)

// Search modes.
const (
	ModeHybrid  = "hybrid"
	ModeKeyword = "keyword"
	ModeVector  = "vector"
)

// rrfK is reciprocal rank fusion's constant: a result at rank r of a list adds
// w/(rrfK+r), w the list's weight (see fuse). 60 is the value of the original paper (Cormack et al., 2009), and
// keeps one list's top result from outweighing agreement between the two.
const rrfK = 60

// QueryRequest is a search of one index.
type QueryRequest struct {
	Query  string          `json:"query"`
	TopK   int             `json:"top_k,omitempty"`
	Mode   string          `json:"mode,omitempty"`
	Filter json.RawMessage `json:"filter,omitempty"`
}

// Query searches p's tenant's index: keyword (FTS5 bm25), vector (cosine to
// the query's embedding, billed to p under opts; without a Ref, under the index
// id) or hybrid (both, fused by weighted reciprocal rank; the default). Scores
// are the mode's own: the negated bm25, the cosine, or the fused w/(60+rank)
// sum; higher is better in each.
func (s *Service) Query(ctx context.Context, p identity.Principal, index string, q QueryRequest, opts chat.Options) ([]Passage, error) {
	if strings.TrimSpace(q.Query) == "" || len(q.Query) > MaxQuery {
		return nil, invalid("query", "query must be 1 to %d bytes of text.", MaxQuery)
	}
	if q.TopK == 0 {
		q.TopK = DefaultTopK
	}
	if q.TopK < 1 || q.TopK > MaxTopK {
		return nil, invalid("top_k", "top_k must be from 1 to %d.", MaxTopK)
	}
	q.Mode = cmp.Or(q.Mode, ModeHybrid)
	if q.Mode != ModeHybrid && q.Mode != ModeKeyword && q.Mode != ModeVector {
		return nil, invalid("mode", "mode must be hybrid, keyword or vector.")
	}
	f, err := filter(q.Filter)
	if err != nil {
		return nil, err
	}
	ix, err := s.index(ctx, p, index)
	if err != nil {
		return nil, err
	}
	if opts.Ref == "" {
		opts.Ref = ix.ID
	}
	return s.search(ctx, p, ix, q.Query, q.TopK, q.Mode, f, opts)
}

// Passages returns the k best passages of p's tenant's index for query (hybrid
// search), for passive RAG: an agent with rag_index adds them to each turn,
// formatted by FormatPassages. The query's embedding is billed to p under opts
// (the turn's surface, session and agent). Unknown index: rag_index_not_found.
func (s *Service) Passages(ctx context.Context, p identity.Principal, index, query string, k int, opts chat.Options) ([]Passage, error) {
	return s.Query(ctx, p, index, QueryRequest{Query: clipBytes(query, MaxQuery), TopK: min(max(k, 1), MaxTopK)}, opts)
}

// FormatPassages renders passages as a system message's text: each numbered,
// with its source (title and document id), so the model can cite them. No
// passages render as "".
func FormatPassages(index string, ps []Passage) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Passages from the knowledge base %q that may help answer; cite a source as [n] when you use it.\n", index)
	for i, p := range ps {
		src := p.DocumentID
		if p.Title != "" {
			src = p.Title + " (" + p.DocumentID + ")"
		}
		fmt.Fprintf(&b, "\n[%d] %s\n%s\n", i+1, src, p.Text)
	}
	return b.String()
}

// ranked is a chunk's place in one result list.
type ranked struct {
	rowid int64
	score float64
}

// search runs the mode's searches (both concurrently for hybrid), fuses them,
// and reads the winners' text back from the store: a chunk deleted since the
// vectors were cached is absent there and dropped, so a few extra are read.
func (s *Service) search(ctx context.Context, p identity.Principal, ix ragdoc.Index, query string, k int, mode string, f ragdoc.Filter, opts chat.Options) ([]Passage, error) {
	n := k + 5
	if mode == ModeHybrid {
		// Deep enough that agreement below the top counts; FTS5 ranks every match
		// whatever the depth, but its cost still grows with it (at 100,000 chunks,
		// 50 costs half again as much as 10).
		n = max(20, 4*k)
	}
	var kw, vec []ranked
	var kwErr, vecErr error
	var wg sync.WaitGroup
	if mode != ModeVector {
		wg.Go(func() { kw, kwErr = s.keyword(ctx, p, ix, query, f, n) })
	}
	if mode != ModeKeyword {
		vec, vecErr = s.vector(ctx, p, ix, query, f, n, opts)
	}
	wg.Wait()
	if err := cmp.Or(vecErr, kwErr); err != nil {
		return nil, err
	}
	final := kw
	switch mode {
	case ModeVector:
		final = vec
	case ModeHybrid:
		final = fuse(kw, vec)
	}
	final = final[:min(len(final), k+5)]
	ids := make([]int64, len(final))
	for i, r := range final {
		ids[i] = r.rowid
	}
	hits, err := s.Store.RAGChunks(ctx, p.Tenant, ix.ID, ids)
	if err != nil {
		return nil, internal(err)
	}
	byID := make(map[int64]ragdoc.Hit, len(hits))
	for _, h := range hits {
		byID[h.RowID] = h
	}
	out := []Passage{}
	for _, r := range final {
		if h, ok := byID[r.rowid]; ok && len(out) < k {
			out = append(out, passage(h, r.score))
		}
	}
	return out, nil
}

// keyword is the FTS5 search: the query's words, stop words left out unless
// nothing else is left, any of them matching, ranked by bm25.
func (s *Service) keyword(ctx context.Context, p identity.Principal, ix ragdoc.Index, query string, f ragdoc.Filter, n int) ([]ranked, error) {
	terms := ftsTerms(query)
	if terms == "" {
		return nil, nil
	}
	hits, err := s.Store.SearchRAGKeyword(ctx, p.Tenant, ix.ID, terms, f, n)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]ranked, len(hits))
	for i, h := range hits {
		out[i] = ranked{h.RowID, h.Score}
	}
	return out, nil
}

// ftsTerms turns a query into an FTS5 expression: each distinct word quoted (so
// no word is read as FTS5 syntax), joined by OR.
func ftsTerms(query string) string {
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var kept []string
	for _, w := range words {
		if !isStopWord(w) && !slices.Contains(kept, w) {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 { // a query of stop words only still searches them
		for _, w := range words {
			if !slices.Contains(kept, w) {
				kept = append(kept, w)
			}
		}
	}
	kept = kept[:min(len(kept), 64)]
	for i, w := range kept {
		kept[i] = `"` + w + `"`
	}
	return strings.Join(kept, " OR ")
}

// vector embeds the query with the index's model and scores it against the
// index's cached vectors.
func (s *Service) vector(ctx context.Context, p identity.Principal, ix ragdoc.Index, query string, f ragdoc.Filter, n int, opts chat.Options) ([]ranked, error) {
	qv, err := s.embed(ctx, p, ix, []string{query}, opts)
	if err != nil {
		return nil, err
	}
	vs, err := s.vectors.get(ctx, p.Tenant, ix)
	if err != nil {
		return nil, internal(err)
	}
	var allow map[string]bool
	if len(f) > 0 {
		if allow, err = s.Store.RAGFilterDocuments(ctx, p.Tenant, ix.ID, f); err != nil {
			return nil, internal(err)
		}
	}
	if vs.Len() > 0 && vs.Dims != len(qv[0]) {
		return nil, apierr.E(apierr.UpstreamError, fmt.Sprintf("The embedding model now answers with %d dimensions; the index was built with %d. Reindex it.", len(qv[0]), vs.Dims), nil)
	}
	top := nearest(vs, qv[0], n, allow)
	out := make([]ranked, len(top))
	for i, t := range top {
		out[i] = ranked{vs.RowIDs[t.row], float64(t.score)}
	}
	return out, nil
}

// fuse merges ranked lists by reciprocal rank, each list weighted by its
// confidence in this query: a chunk scores the sum of w/(rrfK+rank) over the
// lists it is in. Plain RRF (every w 1) trusts a list that cannot tell its
// results apart as much as one that can: a misspelt name matches no keyword, and
// the keyword list is then the chunks that share the query's common words, in an
// order that is noise, which drags the fused order down below the vector list's
// own. A list's confidence is how far its first score stands above its tenth,
// relative to the first; the more confident list weighs 1, the other its share
// of that. Ties go to the better single rank, then to the earlier list (keyword),
// then to the lower rowid, so the order is deterministic.
func fuse(lists ...[]ranked) []ranked {
	type acc struct {
		score      float64
		best, list int
	}
	ws := make([]float64, len(lists))
	most := 0.0
	for i, l := range lists {
		ws[i] = confidence(l)
		most = max(most, ws[i])
	}
	for i := range ws {
		if most > 0 {
			ws[i] /= most
		} else {
			ws[i] = 1 // no list is sure: plain RRF
		}
	}
	m := map[int64]*acc{}
	for li, l := range lists {
		for r, x := range l {
			a := m[x.rowid]
			if a == nil {
				a = &acc{best: r, list: li}
				m[x.rowid] = a
			}
			a.score += ws[li] / float64(rrfK+r+1)
			if r < a.best {
				a.best, a.list = r, li
			}
		}
	}
	out := make([]ranked, 0, len(m))
	for id, a := range m {
		out = append(out, ranked{id, a.score})
	}
	slices.SortFunc(out, func(x, y ranked) int {
		ax, ay := m[x.rowid], m[y.rowid]
		return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(ax.best, ay.best), cmp.Compare(ax.list, ay.list), cmp.Compare(x.rowid, y.rowid))
	})
	return out
}

// confidence is how decisively a list ranks: (first - tenth) / first of its
// scores (higher is better in both lists), in [0, 1]; a list of one result is
// sure of it, an empty one of nothing.
func confidence(l []ranked) float64 {
	switch {
	case len(l) == 0:
		return 0
	case len(l) == 1:
		return 1
	case l[0].score <= 0:
		return 0
	}
	k := min(len(l)-1, 9)
	return max(0, min(1, (l[0].score-l[k].score)/l[0].score))
}

// isStopWord reports English function words, left out of keyword queries: every
// chunk has them, so they only cost FTS5 time.
func isStopWord(w string) bool {
	switch w {
	case "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have", "how",
		"i", "if", "in", "is", "it", "its", "of", "on", "or", "our", "so", "that", "the", "their", "them", "then",
		"there", "these", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
		"with", "you", "your":
		return true
	}
	return false
}
