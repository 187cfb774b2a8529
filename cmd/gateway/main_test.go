package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"spass/local/simulator"
)

// TestHostBinaryLinksNothingLocal keeps the simulator, the test drivers and the
// dev shim out of the production binary.
func TestHostBinaryLinksNothingLocal(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "spass/local/") {
			t.Errorf("the host gateway links %s", pkg)
		}
	}
}

func TestRefusesTheEmbeddedDefault(t *testing.T) {
	env := map[string]string{"SPASS_DATA_DIR": t.TempDir()}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no backend configured") {
		t.Fatalf("without a backend: %v", err)
	}
	env["BACKEND_KIND"], env["BACKEND_BASE_URL"], env["MODEL_NAME"] = "vllm", "http://127.0.0.1:1", "m"
	err = run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no tenant configured") {
		t.Fatalf("without a tenant: %v", err)
	}
}

// TestServesAConfiguredBackend runs the host gateway on the environment quick
// start and chats through it.
func TestServesAConfiguredBackend(t *testing.T) {
	backend := httptest.NewServer(simulator.New(simulator.Options{}))
	defer backend.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"SPASS_DATA_DIR": t.TempDir(), "SPASS_ADDR": addr, "BACKEND_KIND": "vllm",
		"BACKEND_BASE_URL": backend.URL, "MODEL_NAME": "sim-chat", "API_KEYS": "sk-host-test-0123456789"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &out) }()
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(`{"model":"sim-chat","messages":[{"role":"user","content":"host"}]}`))
		req.Header.Set("Authorization", "Bearer sk-host-test-0123456789")
		req.Header.Set("SPASS-User-Id", "ops")
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Hello! You said: host") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
