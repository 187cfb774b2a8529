package simulator

import (
	"net/http"
	"slices"
	"testing"
)

func TestOllamaTagsListsServedModels(t *testing.T) {
	_, ts := start(t, Options{Models: []string{"llama3.1:latest", "nomic-embed-text:latest"}})
	got := decode[struct {
		Models []struct{ Name, Model string }
	}](t, get(t, ts, "/api/tags"), http.StatusOK)
	var names []string
	for _, m := range got.Models {
		if m.Name != m.Model {
			t.Errorf("name %q, model %q: want equal", m.Name, m.Model)
		}
		names = append(names, m.Name)
	}
	if want := []string{"llama3.1:latest", "nomic-embed-text:latest"}; !slices.Equal(names, want) {
		t.Errorf("tags = %v, want %v", names, want)
	}
}

func TestOllamaShow(t *testing.T) {
	_, ts := start(t, Options{
		Models: []string{"llama3.2-vision:latest", "nomic-embed-text", "qwen"},
		Ollama: map[string]OllamaModel{"qwen": {Capabilities: []string{"completion"}, ContextLength: 40960, NumCtx: 8192}},
	})
	type show struct {
		Capabilities []string       `json:"capabilities"`
		ModelInfo    map[string]any `json:"model_info"`
		Parameters   string         `json:"parameters"`
	}
	tests := []struct {
		model   string
		caps    []string
		ctx     float64
		numCtx  bool
		comment string
	}{
		{"llama3.2-vision", []string{"completion", "vision", "tools"}, 32768, false, "found under :latest, described by its name"},
		{"nomic-embed-text", []string{"embedding"}, 8192, false, "an embedding model"},
		{"qwen", []string{"completion"}, 40960, true, "Options.Ollama"},
	}
	for _, tt := range tests {
		got := decode[show](t, post(t, ts, "/api/show", object{"model": tt.model}), http.StatusOK)
		if !slices.Equal(got.Capabilities, tt.caps) || got.ModelInfo["sim.context_length"] != tt.ctx || (got.Parameters != "") != tt.numCtx {
			t.Errorf("%s (%s): got %+v", tt.model, tt.comment, got)
		}
	}
	resp := post(t, ts, "/api/show", object{"model": "missing"})
	if got := decode[map[string]string](t, resp, http.StatusNotFound); got["error"] == "" {
		t.Errorf("unknown model: %v, want Ollama's {\"error\"}", got)
	}
}
