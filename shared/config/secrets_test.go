package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spass/shared/auth"
	"spass/shared/config"
)

func TestSecretsFromFiles(t *testing.T) {
	creds := t.TempDir()
	dir := t.TempDir()
	write := func(path, v string) {
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(creds, "spass_up-key"), "sk-from-credentials\n")
	write(filepath.Join(dir, "abs-key"), "  sk-absolute  ")
	write(filepath.Join(creds, "spass_admin"), auth.Digest("tok-admin")+"\n")
	yaml := `
backends:
  - {name: a, kind: vllm, base_url: "http://127.0.0.1:1", api_key_file: spass_up-key}
  - {name: b, kind: vllm, base_url: "http://127.0.0.1:2", api_key_file: ` + filepath.Join(dir, "abs-key") + `}
models:
  - {id: m, chain: [{backend: a}, {backend: b}]}
tenants:
  acme:
    tokens:
      - {name: admin, sha256_file: spass_admin, role: admin}
`
	path := filepath.Join(dir, "gateway.yaml")
	write(path, yaml)
	env := map[string]string{"SPASS_CONFIG": path, "CREDENTIALS_DIRECTORY": creds}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Backends[0].APIKey != "sk-from-credentials" || c.Backends[1].APIKey != "sk-absolute" {
		t.Errorf("keys %q %q", c.Backends[0].APIKey, c.Backends[1].APIKey)
	}
	if got := c.Tenants["acme"].Tokens[0].SHA256; got != auth.Digest("tok-admin") {
		t.Errorf("digest %q", got)
	}

	// Rotated files: a reload reads them; the loaded config stays as it was.
	write(filepath.Join(creds, "spass_up-key"), "sk-rotated")
	n, err := c.WithSecretsReloaded()
	if err != nil {
		t.Fatal(err)
	}
	if n.Backends[0].APIKey != "sk-rotated" || c.Backends[0].APIKey != "sk-from-credentials" {
		t.Errorf("reloaded %q, original %q", n.Backends[0].APIKey, c.Backends[0].APIKey)
	}

	// A missing or malformed file fails, naming the file and never its content.
	write(filepath.Join(creds, "spass_admin"), "sk-not-a-digest")
	if _, err := c.WithSecretsReloaded(); err == nil || strings.Contains(err.Error(), "sk-not-a-digest") {
		t.Errorf("malformed digest: %v", err)
	}
	os.Remove(filepath.Join(creds, "spass_up-key"))
	_, err = c.WithSecretsReloaded()
	if err == nil || !strings.Contains(err.Error(), "backends[0].api_key_file") || strings.Contains(err.Error(), "sk-rotated") {
		t.Errorf("missing file: %v", err)
	}
}

func TestQuickStartKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k"), []byte("sk-q\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": "http://127.0.0.1:8000", "MODEL_NAME": "m",
		"BACKEND_API_KEY_FILE": "k", "CREDENTIALS_DIRECTORY": dir}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Backends[0].APIKey != "sk-q" {
		t.Errorf("key %q", c.Backends[0].APIKey)
	}
}
