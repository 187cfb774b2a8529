package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// searxng stands in for a SearXNG instance and records the last query it got.
func searxng(t *testing.T, got *http.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*got = *r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"query": "golang", "answers": ["Go is a language", {"answer": "Made at Google"}],
		  "results": [
			{"title": " The Go Programming Language ", "url": "https://go.dev/", "content": "Go is an open   source\n language.", "engine": "x"},
			{"title": "Not a web page", "url": "javascript:alert(1)", "content": "x"},
			{"title": "Go (programming language)", "url": "https://en.wikipedia.org/wiki/Go_(programming_language)", "content": "Go is statically typed.", "publishedDate": "2024-01-01"},
			{"title": "Third", "url": "http://example.org/3", "content": "three"}
		  ]}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWebSearch(t *testing.T) {
	var req http.Request
	srv := searxng(t, &req)
	tool := WebSearch(srv.URL+"/search?safesearch=1", srv.Client())

	out, err := execArgs(t, tool, `{"query": "golang", "max_results": 2, "categories": ["general", "it"], "language": "en", "time_range": "year"}`)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	for k, want := range map[string]string{"q": "golang", "format": "json", "categories": "general,it", "language": "en", "time_range": "year", "safesearch": "1"} {
		if q.Get(k) != want {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if req.URL.Path != "/search" {
		t.Errorf("path = %q", req.URL.Path)
	}
	var got struct {
		Answers []string
		Results []searchResult
	}
	b, _ := json.Marshal(out)
	json.Unmarshal(b, &got)
	if len(got.Results) != 2 {
		t.Fatalf("results = %+v, want 2 (max_results, javascript: url dropped)", got.Results)
	}
	if r := got.Results[0]; r.Title != "The Go Programming Language" || r.URL != "https://go.dev/" || r.Snippet != "Go is an open source language." {
		t.Errorf("first result = %+v", r)
	}
	if got.Results[1].Published != "2024-01-01" {
		t.Errorf("second result = %+v", got.Results[1])
	}
	if len(got.Answers) != 2 || got.Answers[1] != "Made at Google" {
		t.Errorf("answers = %v", got.Answers)
	}
}

func TestWebSearchRefuses(t *testing.T) {
	t.Run("not configured", func(t *testing.T) {
		_, err := execArgs(t, WebSearch("", nil), `{"query": "x"}`)
		if te := mustToolErr(t, err, "not_configured"); te.Message != "web search is not configured on this gateway" {
			t.Errorf("message = %q", te.Message)
		}
	})
	answer := func(status int, body string) Tool {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return WebSearch(srv.URL, nil)
	}
	t.Run("upstream error status", func(t *testing.T) {
		_, err := execArgs(t, answer(500, `{}`), `{"query": "x"}`)
		mustToolErr(t, err, "upstream_error")
	})
	t.Run("not JSON", func(t *testing.T) {
		_, err := execArgs(t, answer(200, `<html>`), `{"query": "x"}`)
		mustToolErr(t, err, "upstream_error")
	})
	t.Run("wrong JSON shape", func(t *testing.T) {
		_, err := execArgs(t, answer(200, `{"results": "none"}`), `{"query": "x"}`)
		mustToolErr(t, err, "upstream_error")
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := execArgs(t, WebSearch(url, nil), `{"query": "x"}`)
		mustToolErr(t, err, "upstream_error")
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		var hits atomic.Int32
		elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
		defer elsewhere.Close()
		srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusFound))
		defer srv.Close()
		_, err := execArgs(t, WebSearch(srv.URL, nil), `{"query": "x"}`)
		mustToolErr(t, err, "upstream_error")
		if hits.Load() != 0 {
			t.Fatal("the redirect target was contacted")
		}
	})
	t.Run("slow endpoint times out", func(t *testing.T) {
		stop := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		defer srv.Close()
		defer close(stop)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := WebSearch(srv.URL, nil).Execute(ctx, testPrincipal, json.RawMessage(`{"query": "x"}`))
		mustToolErr(t, err, "tool_timeout")
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, args := range []string{`{"query": "x", "max_results": 0}`, `{"query": "x", "time_range": "decade"}`, `{"query": "x", "categories": ["news", "news"]}`} {
			_, err := execArgs(t, WebSearch("http://search.invalid/", nil), args)
			mustToolErr(t, err, "invalid_arguments")
		}
	})
}
