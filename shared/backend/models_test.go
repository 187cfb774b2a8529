package backend_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"spass/shared/backend"
	"spass/shared/config"
)

// fake serves one canned JSON body per "METHOD /path" and records the auth header.
func fake(t *testing.T, routes map[string]string) (url string, auth *string) {
	t.Helper()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		body, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"model 'x' not found"}`))
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &got
}

func newBackend(t *testing.T, kind, url string) *backend.Backend {
	t.Helper()
	b, err := backend.New(config.Backend{Name: "b", Kind: kind, BaseURL: url, APIKey: "sk-up"}, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListModels(t *testing.T) {
	tests := []struct {
		kind, route, body string
		want              []backend.Listed
	}{
		{"vllm", "GET /v1/models", `{"object":"list","data":[{"id":"scout","max_model_len":131072},{"id":"bge"}]}`,
			[]backend.Listed{{ID: "scout", ContextWindow: 131072}, {ID: "bge"}}},
		{"openrouter", "GET /api/v1/models", `{"data":[{"id":"meta/llama","context_length":8192}]}`,
			[]backend.Listed{{ID: "meta/llama", ContextWindow: 8192}}},
		{"ollama", "GET /api/tags", `{"models":[{"name":"llama3.1:latest","model":"llama3.1:latest"},{"name":"old:7b"}]}`,
			[]backend.Listed{{ID: "llama3.1:latest"}, {ID: "old:7b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			url, auth := fake(t, map[string]string{tt.route: tt.body})
			if tt.kind == "openrouter" {
				url += "/api" // the preset's base URL
			}
			got, err := newBackend(t, tt.kind, url).ListModels(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || *auth != "Bearer sk-up" {
				t.Errorf("got %+v (auth %q), want %+v", got, *auth, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name, body string
		want       backend.Details
	}{
		{"trained window", `{"capabilities":["completion","tools"],"model_info":{"general.architecture":"llama","llama.context_length":131072,"llama.embedding_length":4096}}`,
			backend.Details{Capabilities: []string{"completion", "tools"}, ContextWindow: 131072}},
		{"num_ctx of the Modelfile wins", `{"capabilities":["embedding"],"parameters":"num_ctx                        8192\nstop \"x\"","model_info":{"nomic-bert.context_length":2048}}`,
			backend.Details{Capabilities: []string{"embedding"}, ContextWindow: 8192}},
		{"an Ollama that says nothing", `{"modelfile":"FROM x"}`, backend.Details{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := fake(t, map[string]string{"POST /api/show": tt.body})
			b := newBackend(t, "ollama", url+"/v1") // a base URL with /v1 still finds /api/show
			got, err := b.Describe(context.Background(), "m")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Capabilities, tt.want.Capabilities) || got.ContextWindow != tt.want.ContextWindow {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDescribeFails(t *testing.T) {
	url, _ := fake(t, nil)
	if _, err := newBackend(t, "ollama", url).Describe(context.Background(), "missing"); err == nil {
		t.Error("a model the backend lacks: no error")
	}
	if b := newBackend(t, "vllm", url); b.CanDescribe() {
		t.Error("vLLM has no /api/show")
	} else if _, err := b.Describe(context.Background(), "m"); err == nil {
		t.Error("Describe on a kind without ShowPath: no error")
	}
}
