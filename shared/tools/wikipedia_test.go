package tools

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// mediawiki stands in for the MediaWiki API: a search, then extracts. It returns
// pages in a different order than the search ranked them, as the real API does.
func mediawiki(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		if q.Get("format") != "json" || q.Get("action") != "query" || r.Header.Get("User-Agent") == "" {
			http.Error(w, "bad request", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case q.Get("list") == "search" && q.Get("srsearch") == "nothing":
			w.Write([]byte(`{"query": {"search": []}}`))
		case q.Get("list") == "search" && q.Get("srsearch") == "broken":
			w.Write([]byte(`{"error": {"code": "x", "info": "the search backend is down"}}`))
		case q.Get("list") == "search":
			w.Write([]byte(`{"query": {"search": [{"title": "Alan Turing"}, {"title": "Turing machine"}, {"title": "Turing test"}]}}`))
		case q.Get("prop") == "extracts|info" && q.Get("exintro") == "1" && q.Get("explaintext") == "1":
			if q.Get("titles") != "Alan Turing|Turing machine" {
				http.Error(w, "unexpected titles "+q.Get("titles"), 400)
				return
			}
			long := strings.Repeat("A Turing machine is a model of computation. ", 100)
			json.NewEncoder(w).Encode(map[string]any{"query": map[string]any{"pages": []map[string]any{
				{"title": "Turing machine", "extract": long, "fullurl": "https://en.wikipedia.org/wiki/Turing_machine"},
				{"title": "Alan Turing", "extract": "Alan Mathison Turing was an English mathematician.", "fullurl": "https://en.wikipedia.org/wiki/Alan_Turing"},
			}}})
		default:
			http.Error(w, "unexpected call", 400)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWikipedia(t *testing.T) {
	srv := mediawiki(t)
	tool := Wikipedia(srv.URL+"/w/api.php", srv.Client())
	out, err := execArgs(t, tool, `{"query": "turing", "limit": 2}`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Articles []wikiArticle }
	b, _ := json.Marshal(out)
	json.Unmarshal(b, &got)
	if len(got.Articles) != 2 {
		t.Fatalf("articles = %+v", got.Articles)
	}
	first, second := got.Articles[0], got.Articles[1]
	if first.Title != "Alan Turing" || first.URL != "https://en.wikipedia.org/wiki/Alan_Turing" || first.Truncated {
		t.Errorf("first (search rank kept) = %+v", first)
	}
	if !second.Truncated || len([]rune(second.Extract)) > wikiExtractRunes+1 {
		t.Errorf("second extract not bounded: %d runes, truncated %v", len([]rune(second.Extract)), second.Truncated)
	}

	t.Run("no match is an empty list", func(t *testing.T) {
		out, err := execArgs(t, tool, `{"query": "nothing"}`)
		if err != nil {
			t.Fatal(err)
		}
		if a := jsonOf(t, out)["articles"].([]any); len(a) != 0 {
			t.Fatalf("articles = %v", a)
		}
	})
}

func TestWikipediaRefuses(t *testing.T) {
	srv := mediawiki(t)
	tests := []struct{ name, base, args, code string }{
		{"not configured", "", `{"query": "x"}`, "not_configured"},
		{"base not http", "ftp://wiki.example/api.php", `{"query": "x"}`, "not_configured"},
		{"API error", srv.URL, `{"query": "broken"}`, "upstream_error"},
		{"endpoint answers 404", srv.URL + "/missing", `{"query": "x"}`, "upstream_error"},
		{"limit too high", srv.URL, `{"query": "x", "limit": 50}`, "invalid_arguments"},
		{"empty query", srv.URL, `{"query": ""}`, "invalid_arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := execArgs(t, Wikipedia(tc.base, nil), tc.args)
			mustToolErr(t, err, tc.code)
		})
	}
}
