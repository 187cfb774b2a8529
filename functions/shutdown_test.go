package functions_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spass/functions"
	"spass/local/logbuf"
	"spass/local/simulator"
	"spass/shared/config"
	"spass/shared/store"
	"spass/shared/web"
)

// A shutdown (ctx ending, as SIGTERM ends it in the binaries) lets a running stream
// finish within server.shutdown_timeout and bills it once; a stream still running
// at the deadline is cut, logged by request id, and billed for what it served.
func TestShutdownLetsStreamsFinish(t *testing.T) {
	sim := httptest.NewServer(simulator.New(simulator.Options{TokenDelay: 20 * time.Millisecond}))
	defer sim.Close()
	dir := t.TempDir()
	yaml := "backends: [{name: sim, kind: simulator, base_url: \"" + sim.URL + "\"}]\n" +
		"models: [{id: sim-chat, chain: [{backend: sim}]}]\n" +
		"server: {shutdown_timeout: 2s}\n"
	os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte(yaml), 0o600)
	env := map[string]string{"SPASS_CONFIG": filepath.Join(dir, "gateway.yaml"), "SPASS_DATA_DIR": filepath.Join(dir, "data"),
		"SPASS_ADDR": "127.0.0.1:0", "API_KEYS": "sk-shutdown-test"}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs logbuf.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(config.Logging{Format: "json"}.Logger(&logs))

	ctx, stop := context.WithCancel(context.Background())
	out := &logbuf.Buffer{}
	served := make(chan error, 1)
	go func() { served <- functions.Serve(ctx, cfg, getenv, out) }()
	base := waitListening(t, out)

	// Both streams are running (their first chunk arrived) when the shutdown starts:
	// "Hello" has a few tokens left, the long prompt a thousand, 20 ms apart.
	short := openStream(t, base, "Hello")
	long := openStream(t, base, strings.Repeat("word ", 1000))
	stop()

	if body := short.rest(); !strings.Contains(body, "data: [DONE]") {
		t.Errorf("the running stream did not complete on shutdown:\n%s", body)
	}
	if body := long.rest(); strings.Contains(body, "data: [DONE]") {
		t.Error("the stream past the shutdown deadline was not cut")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !strings.Contains(logs.String(), `"msg":"shutdown cut a request","request_id":"`+long.id+`"`) {
		t.Errorf("the cut stream %s is not logged:\n%s", long.id, logs.String())
	}
	if strings.Contains(logs.String(), `"msg":"shutdown cut a request","request_id":"`+short.id+`"`) {
		t.Errorf("the finished stream %s is logged as cut", short.id)
	}

	// Serve returned after the ledger drained: both streams are billed, once each.
	db, err := store.Open(context.Background(), filepath.Join(dir, "data", "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.LedgerRows(context.Background(), config.DefaultTenant, 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	billed := map[string]int{}
	for _, r := range rows {
		billed[r.RequestID]++
		if r.RequestID == short.id && (r.CompletionTokens == 0 || r.Estimated) {
			t.Errorf("the finished stream's row %+v", r)
		}
	}
	if billed[short.id] != 1 || billed[long.id] != 1 {
		t.Errorf("rows per request %v, want one for %s and one for %s", billed, short.id, long.id)
	}
}

// stream is a streamed chat answer being read.
type stream struct {
	id   string
	resp *http.Response
	r    *bufio.Reader
	head string
}

// openStream starts a streamed chat request and reads up to its first event.
func openStream(t *testing.T, base, prompt string) *stream {
	t.Helper()
	body := `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-shutdown-test")
	req.Header.Set("SPASS-User-Id", "alice")
	req.Header.Set("SPASS-Tools", "none")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	s := &stream{id: resp.Header.Get(web.RequestIDHeader), resp: resp, r: bufio.NewReader(resp.Body)}
	line, err := s.r.ReadString('\n')
	if err != nil {
		t.Fatalf("no first event: %v", err)
	}
	s.head = line
	return s
}

// rest reads the stream to its end (complete or cut) and returns all of it.
func (s *stream) rest() string {
	b, _ := io.ReadAll(s.r)
	return s.head + string(b)
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// waitListening waits for Serve's banner and returns the gateway's base URL.
func waitListening(t *testing.T, out *logbuf.Buffer) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("the gateway did not start:\n%s", out.String())
	return ""
}
