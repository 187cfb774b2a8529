package multihost

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"spass/local/proctest"
	"spass/local/simulator"
	"spass/shared/auth"
)

// The tokens of setup's tenants: acme's user and admin, and limited's user,
// whose tenant allows limitRPM requests a minute.
const (
	userToken    = "sk-multihost-user"
	adminToken   = "sk-multihost-admin"
	limitedToken = "sk-multihost-limited"
	limitRPM     = 6
)

// cluster is the processes of one test: the gateway and workers binaries, the
// environment they share (one PostgreSQL database, one Redis database, one
// gateway.yaml) and the gateways, each a host with a data dir of its own.
type cluster struct {
	t        *testing.T
	gateway  string
	workers  string
	env      []string
	gateways []*host
}

// host is one gateway process and what survives it: its address and data dir.
type host struct {
	addr, data string
	cmd        *exec.Cmd
}

// newCluster builds the binaries (as the Makefile does) and writes the config.
func newCluster(t *testing.T, databaseURL, redisURL string) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := &cluster{t: t, gateway: proctest.Build(t, dir, "spass/cmd/gateway"), workers: proctest.Build(t, dir, "spass/workers")}
	sim := httptest.NewServer(simulator.New(simulator.Options{}))
	t.Cleanup(sim.Close)
	cfg := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(`backends: [{name: sim, kind: simulator, base_url: %q}]
models:
  - {id: sim-chat, chain: [{backend: sim}], pricing: {input: 1, output: 2}}
  - {id: sim-embed, type: embedding, chain: [{backend: sim}]}
tenants:
  acme: {tokens: [{name: u, sha256: %s, role: user}, {name: a, sha256: %s, role: tenant_admin}]}
  limited:
    tokens: [{name: u, sha256: %s, role: user}]
    defaults: {ratelimit.requests_per_minute: %d}
`, sim.URL, auth.Digest(userToken), auth.Digest(adminToken), auth.Digest(limitedToken), limitRPM)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = []string{"SPASS_CONFIG=" + cfg, "DATABASE_URL=" + databaseURL, "REDIS_URL=" + redisURL}
	return c
}

// startGateways starts n gateway hosts.
func (c *cluster) startGateways(n int) {
	for i := range n {
		h := &host{addr: proctest.FreeAddr(c.t), data: filepath.Join(c.t.TempDir(), fmt.Sprintf("host%d", i))}
		c.gateways = append(c.gateways, h)
		c.start(h)
	}
}

// start runs h's gateway and waits until it answers /healthz.
func (c *cluster) start(h *host) {
	c.t.Helper()
	h.cmd = proctest.Start(c.t, c.gateway, append(c.env, "SPASS_DATA_DIR="+h.data, "SPASS_ADDR="+h.addr), os.Stderr)
	proctest.WaitHealthy(c.t, h.addr, 60*time.Second)
}

// kill ends h's gateway with SIGKILL: no shutdown, no drain, no ledger flush.
func (h *host) kill() {
	proctest.Kill(h.cmd)
}

// stop ends h's gateway as systemd does (SIGTERM) and waits for it.
func (h *host) stop() {
	h.cmd.Process.Signal(syscall.SIGTERM)
	h.cmd.Wait()
}

// startWorkers runs the workers process (asynq on Redis, the periodic jobs).
func (c *cluster) startWorkers() *exec.Cmd {
	c.t.Helper()
	cmd := proctest.Start(c.t, c.workers, append(c.env, "SPASS_DATA_DIR="+filepath.Join(c.t.TempDir(), "workers")), os.Stderr)
	c.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	return cmd
}
