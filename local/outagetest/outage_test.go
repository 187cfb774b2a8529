// Package outagetest stops the Redis the gateway uses in the middle of traffic: /v1
// must keep serving, /readyz must say degraded, no usage may be lost, and the rollups
// must catch up once Redis is back.
package outagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"spass/local/gatewaytest"
	"spass/local/proctest"
	"spass/shared/jobs"
)

// redisServer runs a private redis-server on addr until stop is called.
func redisServer(t *testing.T, addr string) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is required in CI")
		}
		t.Skip("redis-server not installed")
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return func() { proctest.Kill(cmd) }
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached")
}

type readiness struct {
	Status  string   `json:"status"`
	Ready   bool     `json:"ready"`
	Reasons []string `json:"degraded_reasons"`
}

func ready(t *testing.T, env *gatewaytest.Env) readiness {
	resp, err := http.Get(env.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r readiness
	json.NewDecoder(resp.Body).Decode(&r)
	return r
}

func TestRedisOutage(t *testing.T) {
	addr := proctest.FreeAddr(t)
	stop := redisServer(t, addr)
	defer func() { stop() }()
	url := "redis://" + addr + "/0"
	env := gatewaytest.Start(t, gatewaytest.Setup{Env: map[string]string{"REDIS_URL": url},
		AcmeDefaults: "{ratelimit.requests_per_minute: 1000, cache.enabled: true}"})
	w, err := jobs.NewWorkers(url, jobs.WorkersConfig{Concurrency: 2}, env.App.JobKinds()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Shutdown()

	chat := func(i int) {
		t.Helper()
		body := fmt.Sprintf(`{"model":"sim-chat","messages":[{"role":"user","content":"hello %d"}]}`, i)
		resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", body))
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	for i := 0; i < 5; i++ {
		chat(i)
	}
	if r := ready(t, env); r.Status != "ok" {
		t.Fatalf("before the outage: %+v", r)
	}

	stop()
	for i := 5; i < 15; i++ {
		chat(i) // rate limits fail open, the cache misses, the ledger is local
	}
	if r := ready(t, env); r.Status != "degraded" || !r.Ready || len(r.Reasons) != 1 || r.Reasons[0] != "queue_unavailable" {
		t.Fatalf("during the outage: %+v", r)
	}

	stop = redisServer(t, addr)
	waitFor(t, func() bool { return ready(t, env).Status == "ok" })
	// The scheduler fires the rollup once Redis is back; enqueue it as it would,
	// after the ledger committed its batch (it commits off the request path).
	if err := env.App.SyncLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
	opt, _ := asynq.ParseRedisURI(url)
	client := asynq.NewClient(opt)
	defer client.Close()
	if _, err := client.Enqueue(jobs.NewRollupTask("hour")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	waitFor(t, func() bool {
		rolled, newest, _ := env.App.Store.Watermark(ctx, "hour")
		return newest == 15 && rolled == newest
	})
	resp := gatewaytest.Do(t, env.Request(t, "GET", "/v1/billing/usage?bucket=hour", ""))
	var usage struct{ Total struct{ Requests int64 } }
	json.NewDecoder(resp.Body).Decode(&usage)
	if usage.Total.Requests != 15 {
		t.Fatalf("usage after the outage counts %d requests, want 15", usage.Total.Requests)
	}
}
