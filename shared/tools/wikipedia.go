package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const wikipediaSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["query"],
  "properties": {
    "query": {"type": "string", "minLength": 1, "maxLength": 300, "description": "What to look up: an article title or search terms."},
    "limit": {"type": "integer", "minimum": 1, "maximum": 5, "description": "How many matching articles to summarise (default 3)."}
  }
}`

// wikiExtractRunes bounds one article's extract: the intro is what the model needs,
// and several of them must fit a tool result.
const wikiExtractRunes = 2000

// wikiArticle is one summarised article.
type wikiArticle struct {
	Title     string `json:"title"`
	URL       string `json:"url"`
	Extract   string `json:"extract"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Wikipedia returns the wikipedia tool over the MediaWiki API at apiBase (e.g.
// https://en.wikipedia.org/w/api.php): a full-text search, then the plain-text intros
// of the best matches. Only apiBase is contacted; an empty apiBase makes every call a
// not_configured tool error. client may be nil.
func Wikipedia(apiBase string, client *http.Client) Tool {
	client = pinnedClient(client)
	return Tool{
		Name: "wikipedia",
		Description: "Look something up in Wikipedia: searches articles and returns the title, url and plain-text introduction of the best matches. " +
			"Good for definitions, people, places, history and background facts.",
		Parameters: json.RawMessage(wikipediaSchema),
		Execute: func(ctx context.Context, _ Call, raw json.RawMessage) (any, error) {
			if apiBase == "" {
				return nil, Errorf("not_configured", "wikipedia is not configured on this gateway")
			}
			var args struct {
				Query string `json:"query"`
				Limit int    `json:"limit"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			if args.Limit <= 0 || args.Limit > 5 {
				args.Limit = 3
			}
			titles, err := wikiSearch(ctx, client, apiBase, args.Query, args.Limit)
			if err != nil {
				return nil, err
			}
			articles := []wikiArticle{}
			if len(titles) > 0 {
				if articles, err = wikiExtracts(ctx, client, apiBase, titles); err != nil {
					return nil, err
				}
			}
			return map[string]any{"query": args.Query, "articles": articles}, nil
		},
	}
}

// wikiURL builds an API call on base, keeping any query parameters base carries.
func wikiURL(base string, params url.Values) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", Errorf("not_configured", "wikipedia's endpoint is not a valid URL")
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	q.Set("format", "json")
	q.Set("formatversion", "2")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func wikiSearch(ctx context.Context, c *http.Client, base, query string, limit int) ([]string, error) {
	u, err := wikiURL(base, url.Values{
		"action": {"query"}, "list": {"search"}, "srsearch": {query},
		"srlimit": {strconv.Itoa(limit)}, "srprop": {""},
	})
	if err != nil {
		return nil, err
	}
	var body struct {
		Query struct {
			Search []struct {
				Title string `json:"title"`
			} `json:"search"`
		} `json:"query"`
		Error *struct {
			Info string `json:"info"`
		} `json:"error"`
	}
	if err := getJSON(ctx, c, "wikipedia", u, &body); err != nil {
		return nil, err
	}
	if body.Error != nil {
		return nil, Errorf("upstream_error", "wikipedia refused the search: %s", clipped(body.Error.Info, 200))
	}
	var titles []string
	for _, s := range body.Query.Search {
		if s.Title != "" && len(titles) < limit {
			titles = append(titles, s.Title)
		}
	}
	return titles, nil
}

func wikiExtracts(ctx context.Context, c *http.Client, base string, titles []string) ([]wikiArticle, error) {
	u, err := wikiURL(base, url.Values{
		"action": {"query"}, "prop": {"extracts|info"}, "inprop": {"url"},
		"exintro": {"1"}, "explaintext": {"1"}, "redirects": {"1"},
		"titles": {strings.Join(titles, "|")},
	})
	if err != nil {
		return nil, err
	}
	var body struct {
		Query struct {
			Pages []struct {
				Title   string `json:"title"`
				Extract string `json:"extract"`
				FullURL string `json:"fullurl"`
				Missing bool   `json:"missing"`
			} `json:"pages"`
		} `json:"query"`
	}
	if err := getJSON(ctx, c, "wikipedia", u, &body); err != nil {
		return nil, err
	}
	// The API returns pages in its own order; keep the search's ranking.
	rank := map[string]int{}
	for i, t := range titles {
		rank[t] = i + 1
	}
	out := make([]wikiArticle, 0, len(body.Query.Pages))
	for _, p := range body.Query.Pages {
		if p.Missing || p.Title == "" {
			continue
		}
		ext, cut := clip(strings.TrimSpace(p.Extract), wikiExtractRunes)
		out = append(out, wikiArticle{Title: p.Title, URL: p.FullURL, Extract: ext, Truncated: cut})
	}
	sortByRank(out, rank)
	return out, nil
}

// sortByRank orders articles by their search rank; titles the API normalised or
// redirected (not in rank) go last, in the API's order.
func sortByRank(a []wikiArticle, rank map[string]int) {
	key := func(w wikiArticle) int {
		if r, ok := rank[w.Title]; ok {
			return r
		}
		return len(rank) + 1
	}
	slices.SortStableFunc(a, func(x, y wikiArticle) int { return key(x) - key(y) })
}

func clipped(s string, n int) string { out, _ := clip(s, n); return out }
