// Package crashtest kills the real gateway binary with SIGKILL in the middle of a
// burst and checks, after a restart, that every answered request has its ledger row
// and that SQLite is intact.
package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spass/local/simulator"
	"spass/shared/auth"
	"spass/shared/store"
)

const token = "sk-crash-test"

func TestKill9DuringBurstLosesNoBilledResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the gateway binary")
	}
	bin, cfg, data, addr := setup(t, simulator.Options{})
	gw := start(t, bin, cfg, data, addr)
	var answered sync.Map // request id -> true, for complete answers only
	var count atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if id, ok := chat(ctx, addr, (w+i)%2 == 0); ok {
					answered.Store(id, true)
					count.Add(1)
				}
			}
		})
	}
	for count.Load() < 150 {
		time.Sleep(5 * time.Millisecond)
	}
	gw.Process.Kill() // SIGKILL: no shutdown, no drain
	gw.Wait()
	stop()
	wg.Wait()

	gw = start(t, bin, cfg, data, addr)
	defer func() { gw.Process.Kill(); gw.Wait() }()
	db, err := store.Open(context.Background(), filepath.Join(data, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	billed := map[string]bool{}
	for _, r := range rows {
		if billed[r.RequestID] {
			t.Fatalf("request %s billed twice: the journal replay must skip committed rows", r.RequestID)
		}
		billed[r.RequestID] = true
	}
	missing := 0
	answered.Range(func(k, _ any) bool {
		if !billed[k.(string)] {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d of %d answered requests have no ledger row", missing, count.Load())
	}
	if v, err := db.IntegrityCheck(context.Background()); v != "ok" || err != nil {
		t.Fatalf("integrity_check: %q %v", v, err)
	}
	t.Logf("%d answered, %d ledger rows after the kill", count.Load(), len(rows))
}

// chat sends one request and reports its id if the answer arrived complete.
func chat(ctx context.Context, addr string, stream bool) (string, bool) {
	body := fmt.Sprintf(`{"model":"sim-chat","messages":[{"role":"user","content":"hello there"}],"stream":%v}`, stream)
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("SPASS-User-Id", "u")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", false
	}
	complete := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		complete = complete || line == "data: [DONE]" || (!stream && strings.HasSuffix(line, "}"))
	}
	return resp.Header.Get("SPASS-Request-Id"), complete && sc.Err() == nil
}

// setup builds the gateway binary and writes its config for one tenant and a
// simulator backend run with opts; it returns the binary, config, data dir and
// a free address.
func setup(t *testing.T, opts simulator.Options) (bin, cfg, data, addr string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, "spass/local/cmd/gateway") // as the Makefile builds it
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sim := httptest.NewServer(simulator.New(opts))
	t.Cleanup(sim.Close)
	cfg = filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(`backends: [{name: sim, kind: simulator, base_url: %q}]
models: [{id: sim-chat, chain: [{backend: sim}], pricing: {input: 1, output: 2}}]
tenants: {acme: {tokens: [{name: t, sha256: %s, role: user}]}}
`, sim.URL, auth.Digest(token))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return bin, cfg, filepath.Join(dir, "data"), freeAddr(t)
}

func start(t *testing.T, bin, cfg, data, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SPASS_CONFIG="+cfg, "SPASS_DATA_DIR="+data, "SPASS_ADDR="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd
		}
	}
	cmd.Process.Kill()
	t.Fatal("gateway did not start")
	return nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
