package lambdahttp_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spass/shared/app"
	"spass/shared/lambdahttp"
)

func TestConfig(t *testing.T) {
	backend := map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": "http://127.0.0.1:8000", "MODEL_NAME": "m"}
	with := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return backend[k]
		}
	}
	t.Run("no backend is an error naming the variables", func(t *testing.T) {
		_, err := lambdahttp.Config(func(string) string { return "" }, true)
		if err == nil || !strings.Contains(err.Error(), "BACKEND_KIND") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no token is an error, not a dev token", func(t *testing.T) {
		_, err := lambdahttp.Config(with(nil), true)
		if err == nil || !strings.Contains(err.Error(), "API_KEYS") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("under Lambda the data dir defaults to the temp dir", func(t *testing.T) {
		cfg, err := lambdahttp.Config(with(map[string]string{"API_KEYS": "k"}), true)
		if err != nil || cfg.DataDir != filepath.Join(os.TempDir(), "spass") {
			t.Fatalf("data dir %v, %v", cfg, err)
		}
		cfg, err = lambdahttp.Config(with(map[string]string{"API_KEYS": "k", "SPASS_DATA_DIR": "/mnt/efs"}), true)
		if err != nil || cfg.DataDir != "/mnt/efs" {
			t.Fatalf("data dir %v, %v", cfg, err)
		}
	})
}

// TestRunServesHTTPWithoutRuntimeAPI: with no AWS_LAMBDA_RUNTIME_API a bootstrap is a
// plain HTTP server on SPASS_ADDR until its context ends.
func TestRunServesHTTPWithoutRuntimeAPI(t *testing.T) {
	env := map[string]string{
		"BACKEND_KIND": "simulator", "BACKEND_BASE_URL": "http://127.0.0.1:1", "MODEL_NAME": "m",
		"API_KEYS": "k", "SPASS_ADDR": "127.0.0.1:0", "SPASS_DATA_DIR": t.TempDir(),
	}
	group := func(a *app.App) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
		return a.Middleware(mux)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- lambdahttp.Run(ctx, group, func(k string) string { return env[k] }, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.Fields(line)[2]
	resp, err := http.Get(url + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "pong" {
		t.Errorf("GET /ping = %q (line %q)", body, line)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
