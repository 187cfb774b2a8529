package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"spass/shared/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestEmbeddedDefault(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded || c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" {
		t.Fatalf("got embedded=%v addr=%s data=%s", c.Embedded, c.Addr, c.DataDir)
	}
	if len(c.Backends) != 1 || c.Backends[0].Kind != "simulator" || len(c.Models) != len(config.SimulatorModels) {
		t.Fatalf("backends %+v models %d", c.Backends, len(c.Models))
	}
}

func TestQuickStartEnv(t *testing.T) {
	c, err := config.Load(env(map[string]string{
		"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": "http://127.0.0.1:8000", "BACKEND_API_KEY": "sk-up",
		"MODEL_NAME": "llama, qwen", "API_KEYS": "k1,k2", "SPASS_ADDR": ":9999", "SPASS_DATA_DIR": "/tmp/x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Embedded || c.Addr != ":9999" || c.DataDir != "/tmp/x" {
		t.Fatalf("got %+v", c)
	}
	if b := c.Backends[0]; b.Kind != "vllm" || b.APIKey != "sk-up" || b.BaseURL != "http://127.0.0.1:8000" {
		t.Fatalf("backend %+v", b)
	}
	if len(c.Models) != 2 || c.Models[1].ID != "qwen" {
		t.Fatalf("models %+v", c.Models)
	}
	// Named models are not pinned to chat: the backend decides what they serve.
	if m := c.Models[0]; m.Type != "chat" || !slices.Equal(m.Kinds, []string{"chat", "embedding"}) || !m.Assumed || !m.Vision {
		t.Errorf("quick-start model %+v, want chat and embedding, assumed, vision", m)
	}
	if c.Backends[0].ServeListed {
		t.Error("with MODEL_NAME the backend's list must not add models")
	}
	if toks := c.Tenants[config.DefaultTenant].Tokens; len(toks) != 2 || toks[1].Plain != "k2" {
		t.Fatalf("tokens %+v", toks)
	}
}

func TestYAMLFile(t *testing.T) {
	path := writeFile(t, `
listen: 127.0.0.1:9000
backends:
  - name: spark
    kind: vllm
    base_url: http://127.0.0.1:8000/v1
    tier: 1
    tool_call_format: llama-json
  - name: cloud
    kind: openrouter
    api_key_env: OR_KEY
models:
  - id: scout
    vision: true
    context_window: 131072
    chain:
      - backend: spark
        model: meta-llama/Llama-4-Scout
      - backend: cloud
tenants:
  acme:
    tokens:
      - name: ci
        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        role: tenant_admin
routing:
  first_byte_timeout: 5s
`)
	c, err := config.Load(env(map[string]string{"SPASS_CONFIG": path, "OR_KEY": "sk-or"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Backends[0].ToolCallFormat != "llama-json" || c.Backends[1].ToolCallFormat != "" {
		t.Fatalf("tool_call_format: %q, %q", c.Backends[0].ToolCallFormat, c.Backends[1].ToolCallFormat)
	}
	if c.Backends[1].BaseURL != "https://openrouter.ai/api" || c.Backends[1].APIKey != "sk-or" {
		t.Fatalf("preset not applied: %+v", c.Backends[1])
	}
	if c.Routing.FirstByteTimeout.Seconds() != 5 || c.Routing.BreakerFailures != 5 {
		t.Fatalf("routing %+v", c.Routing)
	}
	if c.Models[0].Type != "chat" || c.Tenants["acme"].Tokens[0].Role != "tenant_admin" {
		t.Fatalf("models %+v", c.Models)
	}
}

func TestModelKinds(t *testing.T) {
	path := writeFile(t, `
backends: [{name: a, kind: ollama, base_url: 'http://127.0.0.1:11434'}]
models:
  - {id: untyped, chain: [{backend: a}]}
  - {id: chat, type: chat, chain: [{backend: a}]}
  - {id: embed, type: embedding, chain: [{backend: a}]}
`)
	c, err := config.Load(env(map[string]string{"SPASS_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, typ string
		kinds   []string
	}{
		{"untyped", "chat", []string{"chat"}}, // chat until the backend says otherwise
		{"chat", "chat", nil},                 // a configured type is kept
		{"embed", "embedding", nil},
	}
	for i, tt := range tests {
		if m := c.Models[i]; m.ID != tt.id || m.Type != tt.typ || !slices.Equal(m.Kinds, tt.kinds) || m.Assumed {
			t.Errorf("got %+v, want %s: type %s kinds %v", m, tt.id, tt.typ, tt.kinds)
		}
	}
}

func TestQuickStartWithoutModelNameServesTheListedModels(t *testing.T) {
	c, err := config.Load(env(map[string]string{"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": "http://127.0.0.1:11434"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Models) != 0 || len(c.Backends) != 1 || !c.Backends[0].ServeListed || c.Embedded {
		t.Fatalf("backends %+v models %+v", c.Backends, c.Models)
	}
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"unknown key":     {"listen: x\nbogus: 1\n", "bogus"},
		"unknown kind":    {"backends: [{name: a, kind: nope, base_url: 'http://x'}]\n", "backends[0].kind"},
		"bad url":         {"backends: [{name: a, kind: vllm, base_url: 'ftp://x'}]\n", "backends[0].base_url"},
		"unknown backend": {"backends: [{name: a, kind: vllm, base_url: 'http://x'}]\nmodels: [{id: m, chain: [{backend: b}]}]\n", "models[0].chain[0].backend"},
		"empty chain":     {"backends: [{name: a, kind: vllm, base_url: 'http://x'}]\nmodels: [{id: m}]\n", "models[0].chain"},
		"bad digest":      {"tenants: {t: {tokens: [{sha256: abc, role: user}]}}\n", "tenants.t.tokens[0].sha256"},
		"bad role":        {"tenants: {t: {tokens: [{sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, role: root}]}}\n", "tenants.t.tokens[0].role"},
		"bad duration":    {"routing: {first_byte_timeout: soon}\n", "duration"},
		"bad tool format": {"backends: [{name: a, kind: vllm, base_url: 'http://x', tool_call_format: pythonic}]\n", "backends[0].tool_call_format"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{"SPASS_CONFIG": writeFile(t, tc.yaml)}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %q", err, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPassthroughAllows(t *testing.T) {
	p := config.Passthrough{Tenants: []string{"acme"}, Paths: []string{"/v1/models", "/v1/rerank*"}}
	cases := []struct {
		tenant, path string
		want         bool
	}{
		{"acme", "/v1/models", true},
		{"acme", "/v1/models/x", false},
		{"acme", "/v1/rerank", true},
		{"acme", "/v1/rerank/more", true},
		{"acme", "/v1/chat/completions", false},
		{"globex", "/v1/models", false},
	}
	for _, c := range cases {
		if got := p.Allows(c.tenant, c.path); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.tenant, c.path, got, c.want)
		}
	}
}
