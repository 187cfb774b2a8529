// Package crashtest kills the real gateway binary with SIGKILL in the middle of a
// burst and checks, after a restart, that every answered request has its ledger row
// and that SQLite is intact.
package crashtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spass/local/proctest"
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
				if id, ok := proctest.Chat(ctx, addr, token, (w+i)%2 == 0); ok {
					answered.Store(id, true)
					count.Add(1)
				}
			}
		})
	}
	for count.Load() < 150 {
		time.Sleep(5 * time.Millisecond)
	}
	proctest.Kill(gw) // SIGKILL: no shutdown, no drain
	stop()
	wg.Wait()

	db, rows := restart(t, bin, cfg, data, addr)
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

// setup builds the gateway binary and writes its config for one tenant and a
// simulator backend run with opts; it returns the binary, config, data dir and
// a free address.
func setup(t *testing.T, opts simulator.Options) (bin, cfg, data, addr string) {
	t.Helper()
	dir := t.TempDir()
	bin = proctest.Build(t, dir, "spass/local/cmd/gateway")
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
	return bin, cfg, filepath.Join(dir, "data"), proctest.FreeAddr(t)
}

// restart starts the gateway again on data, which replays the dead one's
// journal, and returns its store (closed when the test ends) and acme's ledger
// rows once it serves.
func restart(t *testing.T, bin, cfg, data, addr string) (*store.DB, []store.LedgerRow) {
	t.Helper()
	start(t, bin, cfg, data, addr) // killed when the test ends
	db, err := store.Open(context.Background(), filepath.Join(data, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows, err := db.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	return db, rows
}

// start runs the gateway binary on addr with cfg and data, and waits until it
// answers /healthz.
func start(t *testing.T, bin, cfg, data, addr string) *exec.Cmd {
	t.Helper()
	cmd := proctest.Start(t, bin, []string{"SPASS_CONFIG=" + cfg, "SPASS_DATA_DIR=" + data, "SPASS_ADDR=" + addr}, nil)
	proctest.WaitHealthy(t, addr, 20*time.Second)
	return cmd
}
