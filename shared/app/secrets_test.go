package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"spass/functions"
	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/config"
)

// TestSIGHUPReloadsSecrets rotates a backend key and a tenant token in their files
// and sends the process SIGHUP: the gateway uses the new ones, with no restart.
func TestSIGHUPReloadsSecrets(t *testing.T) {
	sim := httptest.NewServer(simulator.New(simulator.Options{APIKey: "sk-new"}))
	defer sim.Close()
	creds, dir := t.TempDir(), t.TempDir()
	write := func(name, v string) {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("spass_up", "sk-old")
	write("spass_user", auth.Digest("tok-old"))
	yaml := `
backends:
  - {name: up, kind: simulator, base_url: "` + sim.URL + `", api_key_file: spass_up}
models:
  - {id: sim-chat, chain: [{backend: up}]}
tenants:
  acme:
    tokens:
      - {name: user, sha256_file: spass_user, role: user}
routing: {breaker_failures: 100}
`
	path := filepath.Join(dir, "gateway.yaml")
	os.WriteFile(path, []byte(yaml), 0o600)
	env := map[string]string{"SPASS_CONFIG": path, "CREDENTIALS_DIRECTORY": creds, "SPASS_DATA_DIR": filepath.Join(dir, "data")}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(functions.Handler(a))
	defer func() { srv.Close(); a.Close() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.ReloadOnSIGHUP(ctx)

	chat := func(token string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(auth.UserHeader, "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := chat("tok-old"); got == http.StatusOK || got == http.StatusUnauthorized {
		t.Fatalf("with the old backend key: %d, want the backend's refusal as an upstream error", got)
	}

	write("spass_up", "sk-new")
	write("spass_user", auth.Digest("tok-new"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); chat("tok-new") != http.StatusOK; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the new key and token never worked after SIGHUP")
		}
	}
	if got := chat("tok-old"); got != http.StatusUnauthorized {
		t.Errorf("the rotated-out token: %d, want 401", got)
	}
}
