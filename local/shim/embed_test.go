package shim_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spass/local/shim"
	"spass/shared/config"
)

// TestEmbedKeepsAnOperatorToken: `make run` prints the dev tenant token and an
// operator token, both kept in the data dir across restarts; the operator token
// belongs to no tenant. With tenants configured (production), only its file is
// named, so no log holds it.
func TestEmbedKeepsAnOperatorToken(t *testing.T) {
	dir := t.TempDir()
	load := func(extra map[string]string) (*config.Config, string) {
		t.Helper()
		e := map[string]string{"SPASS_DATA_DIR": dir, "BACKEND_KIND": "vllm", "BACKEND_BASE_URL": "http://127.0.0.1:1", "MODEL_NAME": "m"}
		for k, v := range extra {
			e[k] = v
		}
		cfg, err := config.Load(func(k string) string { return e[k] })
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		stop, err := shim.Embed(cfg, &out)
		if err != nil {
			t.Fatal(err)
		}
		stop()
		return cfg, out.String()
	}
	cfg, out := load(nil)
	if len(cfg.Operators) != 1 || cfg.Operators[0].Role != config.RoleOperator {
		t.Fatalf("operators %+v", cfg.Operators)
	}
	op := cfg.Operators[0].Plain
	if !strings.Contains(out, op) || !strings.Contains(out, cfg.Tenants[config.DefaultTenant].Tokens[0].Plain) {
		t.Fatalf("a dev start must print both tokens:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "operator-token")); err != nil || strings.TrimSpace(string(b)) != op {
		t.Fatalf("operator-token file: %q %v", b, err)
	}
	if again, _ := load(nil); again.Operators[0].Plain != op {
		t.Fatal("the operator token changed across restarts")
	}
	cfg, out = load(map[string]string{"API_KEYS": "sk-production-key"})
	if cfg.Operators[0].Plain != op || strings.Contains(out, op) || !strings.Contains(out, filepath.Join(dir, "operator-token")) {
		t.Fatalf("with tenants configured the token must stay out of the output:\n%s", out)
	}
	if cfg, out = load(map[string]string{config.OperatorTokenEnv: "configured-operator-token"}); len(cfg.Operators) != 1 || strings.Contains(out, "operator-token") {
		t.Fatalf("a configured operator gets no kept token: %+v\n%s", cfg.Operators, out)
	}
}
