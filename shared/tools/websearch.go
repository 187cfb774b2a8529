package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

const webSearchSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["query"],
  "properties": {
    "query": {"type": "string", "minLength": 1, "maxLength": 500, "description": "The search query, as you would type it into a search engine."},
    "max_results": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many results to return (default 5)."},
    "categories": {
      "type": "array",
      "maxItems": 4,
      "uniqueItems": true,
      "items": {"type": "string", "enum": ["general", "news", "science", "it", "images", "videos", "music", "files", "map", "social media"]},
      "description": "Search categories (default general)."
    },
    "language": {"type": "string", "pattern": "^(all|auto|[a-z]{2,3}(-[A-Za-z]{2,4})?)$", "description": "Result language, e.g. en, de, pt-BR (default: the engine's)."},
    "time_range": {"type": "string", "enum": ["day", "week", "month", "year"], "description": "Only results from this recent period."}
  }
}`

// searchResult is one hit as the model sees it.
type searchResult struct {
	Title     string `json:"title"`
	URL       string `json:"url"`
	Snippet   string `json:"snippet"`
	Published string `json:"published,omitempty"`
}

// WebSearch returns the web_search tool backed by a SearXNG-style JSON endpoint:
// GET <endpoint>?q=<query>&format=json. Only that endpoint is contacted (redirects
// are not followed); an empty endpoint makes every call a not_configured tool error.
// client may be nil.
func WebSearch(endpoint string, client *http.Client) Tool {
	client = pinnedClient(client)
	return Tool{
		Name: "web_search",
		Description: "Search the web and get a list of results (title, url, snippet). Use it for recent events, facts you are unsure of, " +
			"or anything after your training data. Snippets are short: fetch a promising url with web_fetch to read the page.",
		Parameters: json.RawMessage(webSearchSchema),
		Execute: func(ctx context.Context, _ Call, raw json.RawMessage) (any, error) {
			if endpoint == "" {
				return nil, Errorf("not_configured", "web search is not configured on this gateway")
			}
			var args struct {
				Query      string   `json:"query"`
				MaxResults int      `json:"max_results"`
				Categories []string `json:"categories"`
				Language   string   `json:"language"`
				TimeRange  string   `json:"time_range"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			if args.MaxResults <= 0 || args.MaxResults > 10 {
				args.MaxResults = 5
			}
			u, err := url.Parse(endpoint)
			if err != nil {
				return nil, Errorf("not_configured", "web search's endpoint is not a valid URL")
			}
			q := u.Query()
			q.Set("q", args.Query)
			q.Set("format", "json")
			if len(args.Categories) > 0 {
				q.Set("categories", strings.Join(args.Categories, ","))
			}
			if args.Language != "" {
				q.Set("language", args.Language)
			}
			if args.TimeRange != "" {
				q.Set("time_range", args.TimeRange)
			}
			u.RawQuery = q.Encode()

			var body struct {
				Results []struct {
					Title         string `json:"title"`
					URL           string `json:"url"`
					Content       string `json:"content"`
					PublishedDate string `json:"publishedDate"`
				} `json:"results"`
				Answers []json.RawMessage `json:"answers"`
			}
			if err := getJSON(ctx, client, "web_search", u.String(), &body); err != nil {
				return nil, err
			}
			out := struct {
				Query   string         `json:"query"`
				Answers []string       `json:"answers,omitempty"`
				Results []searchResult `json:"results"`
			}{Query: args.Query, Results: []searchResult{}}
			for _, r := range body.Results {
				if len(out.Results) == args.MaxResults {
					break
				}
				if !strings.HasPrefix(r.URL, "https://") && !strings.HasPrefix(r.URL, "http://") {
					continue
				}
				title, _ := clip(strings.TrimSpace(r.Title), 200)
				snippet, _ := clip(strings.Join(strings.Fields(r.Content), " "), 500)
				out.Results = append(out.Results, searchResult{Title: title, URL: r.URL, Snippet: snippet, Published: r.PublishedDate})
			}
			for _, a := range body.Answers {
				if s := answerText(a); s != "" && len(out.Answers) < 3 {
					s, _ = clip(s, 500)
					out.Answers = append(out.Answers, s)
				}
			}
			return out, nil
		},
	}
}

// answerText reads one SearXNG direct answer: a string in older versions, an object
// with an "answer" field in newer ones.
func answerText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var o struct {
		Answer string `json:"answer"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return strings.TrimSpace(o.Answer)
	}
	return ""
}
