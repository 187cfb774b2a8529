package admin_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// fakeBackend streams two SSE events and holds the second until release is
// closed, and records the Authorization header of every request it got.
type fakeBackend struct {
	*httptest.Server
	release chan struct{}
	mu      sync.Mutex
	auths   []string
}

func newFakeBackend(t *testing.T) *fakeBackend {
	f := &fakeBackend{release: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		switch r.URL.Path {
		case "/v1/chat/completions":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"first\"}}]}\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-f.release:
			case <-time.After(10 * time.Second): // the test failed; do not hang
			}
			fmt.Fprint(w, "data: {\"choices\":[],\"model\":\"m\",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\ndata: [DONE]\n\n")
		case "/v1/models":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"object":"list","data":[{"id":"m"}]}`)
		case "/v1/embeddings":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"model":"m","data":[],"usage":{"prompt_tokens":5,"total_tokens":5}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func startProxy(t *testing.T, extra string) (*gatewaytest.Env, *fakeBackend) {
	f := newFakeBackend(t)
	yaml := `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
  - name: vllm
    kind: vllm
    base_url: "` + f.URL + `"
    api_key_env: VLLM_KEY
    passthrough: {tenants: [acme], paths: ["/v1/models", "/v1/embeddings*"]}
models:
  - {id: sim-chat, chain: [{backend: sim}]}
` + extra
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim"}, YAML: yaml, Env: map[string]string{"VLLM_KEY": "sk-backend-key"}})
	return env, f
}

func proxyReq(t *testing.T, env *gatewaytest.Env, method, path, token, body string) *http.Request {
	req, _ := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "session=secret")
	return req
}

func TestProxyRelaysAStreamEventByEvent(t *testing.T) {
	env, f := startProxy(t, "")
	resp := gatewaytest.Do(t, proxyReq(t, env, "POST", "/proxy/vllm/v1/chat/completions", gatewaytest.OperatorToken, `{"model":"m","stream":true}`))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("SPASS-Backend") != "vllm" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	// The first event arrives while the backend still holds the second.
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, `"first"`) {
		t.Fatalf("first event %q %v", line, err)
	}
	close(f.release)
	rest := ""
	for {
		l, err := br.ReadString('\n')
		rest += l
		if err != nil {
			break
		}
	}
	if !strings.Contains(rest, `"usage"`) || !strings.HasSuffix(rest, "data: [DONE]\n\n") {
		t.Fatalf("rest of the stream %q", rest)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.auths {
		if a != "Bearer sk-backend-key" {
			t.Fatalf("the backend got Authorization %q, want the gateway's own key", a)
		}
	}
}

func TestProxyAccess(t *testing.T) {
	env, f := startProxy(t, "")
	cases := []struct {
		name, method, path, token string
		status                    int
	}{
		{"operator, any path", "GET", "/proxy/vllm/v1/models", gatewaytest.OperatorToken, 200},
		{"tenant on the allowlist", "GET", "/proxy/vllm/v1/models", gatewaytest.UserToken, 200},
		{"tenant on an allowed prefix", "POST", "/proxy/vllm/v1/embeddings", gatewaytest.UserToken, 200},
		{"tenant off the allowlist", "POST", "/proxy/vllm/v1/chat/completions", gatewaytest.UserToken, 403},
		{"read-only may not POST", "POST", "/proxy/vllm/v1/embeddings", gatewaytest.ReadOnlyToken, 403},
		{"a tenant not listed", "GET", "/proxy/vllm/v1/models", gatewaytest.OtherToken, 403},
		{"a backend not opened", "GET", "/proxy/sim/v1/models", gatewaytest.AdminToken, 403},
		{"the metrics role", "GET", "/proxy/vllm/v1/models", gatewaytest.MetricsToken, 403},
		{"no such backend", "GET", "/proxy/nope/v1/models", gatewaytest.OperatorToken, 404},
		{"a bad token", "GET", "/proxy/vllm/v1/models", "sk-nope", 401},
		{"an encoded way out of the allowlist", "POST", "/proxy/vllm/v1/embeddings/%2e%2e/chat/completions", gatewaytest.UserToken, 400},
	}
	for _, c := range cases {
		resp := gatewaytest.Do(t, proxyReq(t, env, c.method, c.path, c.token, `{"model":"m","input":"x"}`))
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.status)
		}
	}
	f.mu.Lock()
	for _, a := range f.auths {
		if a != "Bearer sk-backend-key" {
			t.Errorf("the backend got Authorization %q", a)
		}
	}
	f.mu.Unlock()
	// The tenant's embeddings answer carried usage: billed to the tenant.
	rows := env.Ledger(t, "acme")
	if len(rows) != 1 || rows[0].Route != "proxy" || rows[0].Backend != "vllm" || rows[0].PromptTokens != 5 {
		t.Fatalf("ledger %+v", rows)
	}
}

func TestPprof(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	if resp, _ := get(t, env, "/debug/pprof/", bearer(gatewaytest.OperatorToken)); resp.StatusCode != 404 {
		t.Fatalf("pprof off by default: %d", resp.StatusCode)
	}
	env, _ = startProxy(t, "debug: {pprof: true}\n")
	for _, c := range []struct {
		token  string
		status int
	}{{gatewaytest.OperatorToken, 200}, {gatewaytest.AdminToken, 403}, {gatewaytest.MetricsToken, 403}, {"", 401}} {
		set := bearer(c.token)
		if c.token == "" {
			set = nil
		}
		resp, body := get(t, env, "/debug/pprof/goroutine?debug=1", set)
		if resp.StatusCode != c.status || c.status == 200 && !strings.Contains(body, "goroutine profile") {
			t.Errorf("token %q: %d %.80s", c.token, resp.StatusCode, body)
		}
	}
}
