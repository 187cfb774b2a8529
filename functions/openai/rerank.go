package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/router"
	"spass/shared/web"
)

// maxRerankDocuments bounds one rerank request (Cohere's limit is 1000).
const maxRerankDocuments = 1000

// rerankRequest is a checked POST /v1/rerank body.
type rerankRequest struct {
	Model           string
	Query           string
	Documents       []string
	TopN            int // 0: all
	ReturnDocuments bool
}

type rerankResult struct {
	Index          int          `json:"index"`
	RelevanceScore float64      `json:"relevance_score"`
	Document       *rerankedDoc `json:"document,omitempty"`
}

type rerankedDoc struct {
	Text string `json:"text"`
}

// parseRerank reads a rerank body that readJSON has checked.
func parseRerank(body []byte) (*rerankRequest, error) {
	req := &rerankRequest{}
	var err error
	if req.Model, err = stringField(body, "model", true); err != nil {
		return nil, err
	}
	if req.Query, err = stringField(body, "query", true); err != nil {
		return nil, err
	}
	docs := gjson.GetBytes(body, "documents")
	if !docs.IsArray() || len(docs.Array()) == 0 {
		return nil, apierr.P(apierr.MissingParameter, "documents", "documents must be a non-empty array of strings or {text} objects.")
	}
	if len(docs.Array()) > maxRerankDocuments {
		return nil, apierr.P(apierr.InvalidRequest, "documents", fmt.Sprintf("documents may hold at most %d entries.", maxRerankDocuments))
	}
	for i, d := range docs.Array() {
		switch {
		case d.Type == gjson.String:
			req.Documents = append(req.Documents, d.Str)
		case d.IsObject() && d.Get("text").Type == gjson.String:
			req.Documents = append(req.Documents, d.Get("text").Str)
		default:
			return nil, apierr.P(apierr.InvalidRequest, fmt.Sprintf("documents[%d]", i), "Each document must be a string or an object with a text string.")
		}
	}
	if n := gjson.GetBytes(body, "top_n"); n.Exists() && n.Type != gjson.Null {
		if n.Type != gjson.Number || n.Num != float64(int(n.Num)) || n.Num < 1 {
			return nil, apierr.P(apierr.InvalidRequest, "top_n", "top_n must be a positive integer.")
		}
		req.TopN = int(n.Num)
	}
	if rd := gjson.GetBytes(body, "return_documents"); rd.Exists() && rd.Type != gjson.Null {
		if rd.Type != gjson.True && rd.Type != gjson.False {
			return nil, apierr.P(apierr.InvalidRequest, "return_documents", "return_documents must be a boolean.")
		}
		req.ReturnDocuments = rd.Bool()
	}
	return req, nil
}

// rerank serves "POST /v1/rerank" in the Cohere/Jina shape, for the first backend
// of the model's chain that reranks: vLLM, llama.cpp, LocalAI, Jina and Cohere
// take that shape at their rerank path, TEI its own (translated both ways). The
// answer is the gateway's own: results best first, cut to top_n, with the
// documents when return_documents is true, whatever the backend returned.
func rerank(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := readJSON(r, "model", "query", "documents")
		if err != nil {
			return err
		}
		req, err := parseRerank(body)
		if err != nil {
			return err
		}
		rl, ctx, err := openRelayed(r.Context(), a, w.Header(), "rerank", req.Model, backend.Rerank)
		if err != nil {
			return err
		}
		var results []rerankResult
		var u billing.Tokens
		reported := false
		err = rl.run(ctx, w.Header(), func(ctx context.Context, t router.Target) error {
			tei := t.Backend.Profile.RerankTEI
			up, _ := json.Marshal(upstreamRerank(req, t.Model, tei))
			out, err := rl.fetchJSON(ctx, t, t.Backend.Profile.RerankPath, false, up)
			if err != nil {
				return err
			}
			if results, err = rerankResults(out, tei, len(req.Documents)); err != nil {
				return &router.Failure{Status: http.StatusBadGateway, Cause: fmt.Errorf("backend %s: %w", t.Backend.Name, err)}
			}
			u, reported = usageOf(gjson.GetBytes(out, "usage"))
			rl.served(w.Header(), t)
			return nil
		})
		if err == nil && !reported {
			n := len(req.Query)
			for _, d := range req.Documents {
				n += len(d)
			}
			u = billing.Tokens{Prompt: int64(max(n/4, 1))}
		}
		rl.finish(ctx, err, u, err == nil && !reported)
		if err != nil {
			return err
		}
		sort.SliceStable(results, func(i, j int) bool { return results[i].RelevanceScore > results[j].RelevanceScore })
		if req.TopN > 0 && req.TopN < len(results) {
			results = results[:req.TopN]
		}
		if req.ReturnDocuments {
			for i := range results {
				results[i].Document = &rerankedDoc{Text: req.Documents[results[i].Index]}
			}
		}
		return web.JSON(w, http.StatusOK, map[string]any{"id": rl.res.RequestID, "model": req.Model, "results": results,
			"usage": map[string]int64{"total_tokens": u.Prompt + u.Completion}})
	}
}

// upstreamRerank is the backend's request: TEI's {query, texts}, or the
// Cohere/Jina shape with the documents as strings.
func upstreamRerank(req *rerankRequest, model string, tei bool) any {
	if tei {
		return map[string]any{"query": req.Query, "texts": req.Documents, "return_text": false}
	}
	m := map[string]any{"model": model, "query": req.Query, "documents": req.Documents, "return_documents": false}
	if req.TopN > 0 {
		m["top_n"] = req.TopN
	}
	return m
}

// rerankResults reads the backend's scores: TEI's bare array of {index, score},
// or results of {index, relevance_score}.
func rerankResults(out []byte, tei bool, docs int) ([]rerankResult, error) {
	list, score := gjson.GetBytes(out, "results"), "relevance_score"
	if tei {
		list, score = gjson.ParseBytes(out), "score"
	}
	if !list.IsArray() {
		return nil, fmt.Errorf("no results in the rerank answer")
	}
	var res []rerankResult
	seen := map[int]bool{}
	for _, it := range list.Array() {
		i, s := it.Get("index"), it.Get(score)
		if i.Type != gjson.Number || s.Type != gjson.Number || int(i.Num) < 0 || int(i.Num) >= docs || seen[int(i.Num)] {
			return nil, fmt.Errorf("a rerank result without a valid index and score")
		}
		seen[int(i.Num)] = true
		res = append(res, rerankResult{Index: int(i.Num), RelevanceScore: s.Num})
	}
	return res, nil
}
