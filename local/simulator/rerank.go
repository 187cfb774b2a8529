package simulator

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// rerankDims is the size of the bag-of-words vectors rerank compares.
const rerankDims = 256

// handleRerank implements the Cohere/Jina rerank shape that vLLM, LocalAI,
// llama.cpp and Jina serve at /v1/rerank (and vLLM also at /rerank): documents
// scored by the cosine of their bag-of-words embedding with the query's (see
// EmbedText), best first, top_n of them, with the documents when
// return_documents is not false. Any model name is accepted.
func (s *Server) handleRerank(x *exchange) {
	var req struct {
		Model           string            `json:"model"`
		Query           *string           `json:"query"`
		Documents       []json.RawMessage `json:"documents"`
		TopN            *int              `json:"top_n"`
		ReturnDocuments *bool             `json:"return_documents"`
	}
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	if req.Query == nil {
		x.fail(errMissingParam("query"))
		return
	}
	if len(req.Documents) == 0 {
		x.fail(errMissingParam("documents"))
		return
	}
	texts := make([]string, len(req.Documents))
	for i, d := range req.Documents {
		var doc struct{ Text string }
		if json.Unmarshal(d, &texts[i]) != nil {
			if json.Unmarshal(d, &doc) != nil {
				x.fail(errInvalidParam("documents", "documents[%d] must be a string or {text}", i))
				return
			}
			texts[i] = doc.Text
		}
	}
	q := EmbedText(*req.Query, rerankDims)
	type result struct {
		Index    int             `json:"index"`
		Score    float64         `json:"relevance_score"`
		Document *map[string]any `json:"document,omitempty"`
	}
	results := make([]result, len(texts))
	tokens := countWords(*req.Query)
	for i, t := range texts {
		d := EmbedText(t, rerankDims)
		var dot float64
		for k := range q {
			dot += float64(q[k]) * float64(d[k])
		}
		results[i] = result{Index: i, Score: math.Round(max(dot, 0)*1e6) / 1e6}
		if req.ReturnDocuments == nil || *req.ReturnDocuments {
			results[i].Document = &map[string]any{"text": t}
		}
		tokens += countWords(t)
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Score > results[j].Score })
	if req.TopN != nil && *req.TopN >= 0 && *req.TopN < len(results) {
		results = results[:*req.TopN]
	}
	x.respond(map[string]any{"id": fmt.Sprintf("rerank-sim%08d", x.seq), "model": req.Model, "results": results,
		"usage": map[string]any{"total_tokens": max(tokens, 1)}})
}
