package router_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"spass/local/simulator"
	"spass/shared/config"
	"spass/shared/router"
)

// ollama stands in for an Ollama serving models, described on /api/show as o says.
func ollama(t *testing.T, models []string, o map[string]simulator.OllamaModel) string {
	t.Helper()
	srv := httptest.NewServer(simulator.New(simulator.Options{Models: models, Ollama: o}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// discover loads the config from env (and yaml, when given, with {{url}} replaced)
// and builds the router as app.Open does.
func discover(t *testing.T, env map[string]string, yaml string) *router.Router {
	t.Helper()
	if yaml != "" {
		path := filepath.Join(t.TempDir(), "gateway.yaml")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "{{url}}", env["BACKEND_BASE_URL"])), 0o600); err != nil {
			t.Fatal(err)
		}
		env["SPASS_CONFIG"] = path
		delete(env, "BACKEND_BASE_URL")
	}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	r, err := router.Discover(context.Background(), c, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want is what a model serves after discovery.
type want struct {
	id     string
	types  []string
	vision bool
	window int
}

func check(t *testing.T, r *router.Router, wants []want) {
	t.Helper()
	var ids []string
	for _, m := range r.Models() {
		ids = append(ids, m.ID)
	}
	for _, w := range wants {
		m := r.Model(w.id)
		if m == nil {
			t.Errorf("%s not served (served: %v)", w.id, ids)
			continue
		}
		if !slices.Equal(m.Types(), w.types) || m.Type != w.types[0] || m.Vision != w.vision || m.ContextWindow != w.window {
			t.Errorf("%s: types %v type %s vision %v window %d, want %+v", w.id, m.Types(), m.Type, m.Vision, m.ContextWindow, w)
		}
		for _, kind := range []string{"chat", "embedding", "image"} {
			if m.Serves(kind) != slices.Contains(w.types, kind) {
				t.Errorf("%s: Serves(%s) = %v, types %v", w.id, kind, m.Serves(kind), w.types)
			}
		}
	}
	if len(ids) != len(wants) {
		t.Errorf("served %v, want %d models", ids, len(wants))
	}
}

var described = map[string]simulator.OllamaModel{
	"llama3.1":         {Capabilities: []string{"completion", "tools"}, ContextLength: 131072},
	"nomic-embed-text": {Capabilities: []string{"embedding"}, ContextLength: 2048, NumCtx: 8192},
	"llava":            {Capabilities: []string{"completion", "vision"}, ContextLength: 4096},
}

func TestOllamaQuickStartLearnsEachModel(t *testing.T) {
	url := ollama(t, []string{"llama3.1", "nomic-embed-text", "llava"}, described)
	r := discover(t, map[string]string{"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": url, "MODEL_NAME": "llama3.1,nomic-embed-text,llava"}, "")
	check(t, r, []want{
		{"llama3.1", []string{"chat"}, false, 131072},
		{"nomic-embed-text", []string{"embedding"}, false, 8192}, // the Modelfile's num_ctx over the trained window
		{"llava", []string{"chat"}, true, 4096},
	})
	if d := r.Model("llama3.1").Details; d == nil || !d.Has("tools") {
		t.Errorf("details %+v, want Ollama's capabilities", d)
	}
}

func TestQuickStartWithoutDescriptionsServesChatAndEmbeddings(t *testing.T) {
	url := ollama(t, []string{"scout", "bge"}, nil)
	r := discover(t, map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": url, "MODEL_NAME": "scout,bge"}, "")
	both := []string{"chat", "embedding"}
	check(t, r, []want{{"scout", both, true, 0}, {"bge", both, true, 0}})
}

func TestWithoutModelNameTheListedModelsAreServed(t *testing.T) {
	t.Run("ollama", func(t *testing.T) {
		url := ollama(t, []string{"llama3.1:latest", "nomic-embed-text:latest", "llava:13b"}, map[string]simulator.OllamaModel{
			"llama3.1:latest": described["llama3.1"], "nomic-embed-text:latest": described["nomic-embed-text"], "llava:13b": described["llava"],
		})
		r := discover(t, map[string]string{"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": url}, "")
		check(t, r, []want{
			{"llama3.1", []string{"chat"}, false, 131072}, // ":latest" is the tag clients leave out
			{"nomic-embed-text", []string{"embedding"}, false, 8192},
			{"llava:13b", []string{"chat"}, true, 4096},
		})
		if up := r.Model("llama3.1").Targets[0].Model; up != "llama3.1:latest" {
			t.Errorf("upstream id %q, want the listed llama3.1:latest", up)
		}
	})
	t.Run("vllm", func(t *testing.T) {
		url := ollama(t, []string{"scout", "bge"}, nil)
		r := discover(t, map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": url}, "")
		both := []string{"chat", "embedding"}
		check(t, r, []want{{"scout", both, true, 0}, {"bge", both, true, 0}})
	})
}

func TestDiscoveryFailureIsNotFatal(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	down := srv.URL
	srv.Close()
	t.Run("named models are served as named", func(t *testing.T) {
		r := discover(t, map[string]string{"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": down, "MODEL_NAME": "llama3.1,nomic-embed-text"}, "")
		both := []string{"chat", "embedding"}
		check(t, r, []want{{"llama3.1", both, true, 0}, {"nomic-embed-text", both, true, 0}})
	})
	t.Run("without MODEL_NAME nothing is served", func(t *testing.T) {
		r := discover(t, map[string]string{"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": down}, "")
		check(t, r, nil)
	})
	t.Run("a model the backend lacks", func(t *testing.T) {
		url := ollama(t, []string{"llama3.1"}, described)
		r := discover(t, map[string]string{"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": url, "MODEL_NAME": "llama3.1,not-pulled"}, "")
		check(t, r, []want{{"llama3.1", []string{"chat"}, false, 131072}, {"not-pulled", []string{"chat", "embedding"}, true, 0}})
	})
}

func TestConfiguredModelsKeepWhatTheConfigSays(t *testing.T) {
	url := ollama(t, []string{"llama3.1", "nomic-embed-text", "llava"}, described)
	r := discover(t, map[string]string{"BACKEND_BASE_URL": url}, `
backends: [{name: o, kind: ollama, base_url: "{{url}}"}]
models:
  - {id: untyped-embed, chain: [{backend: o, model: nomic-embed-text}]}
  - {id: typed-chat, type: chat, chain: [{backend: o, model: nomic-embed-text}]}
  - {id: windowed, vision: true, context_window: 4096, chain: [{backend: o, model: llama3.1}]}
  - {id: llava, chain: [{backend: o}]}
`)
	check(t, r, []want{
		{"untyped-embed", []string{"embedding"}, false, 8192}, // no type: the backend's
		{"typed-chat", []string{"chat"}, false, 8192},         // a configured type stays
		{"windowed", []string{"chat"}, true, 4096},            // configured vision and window stay
		{"llava", []string{"chat"}, true, 4096},               // vision the config left out
	})
}
