package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/local/logbuf"
	"spass/local/redistest"
	"spass/local/simulator"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/store"
)

// redisDB is this package's own Redis database.
const redisDB = 5

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not reached", what)
}

// TestWorkersRunWhatTheGatewayEnqueues runs the workers binary's run in-process
// on this package's Redis database: a rollup enqueued on Redis, as a gateway
// with REDIS_URL does, is run by the workers on the shared SQLite store, and the
// workers bill under a journal of their own.
func TestWorkersRunWhatTheGatewayEnqueues(t *testing.T) {
	rdb := redistest.Open(t, redisDB)
	dataDir := t.TempDir()
	env := map[string]string{
		"REDIS_URL":                  "redis://127.0.0.1:6379/5",
		"SPASS_DATA_DIR":             dataDir,
		"SPASS_WORKER_CONCURRENCY":   "2",
		"SPASS_WORKERS_METRICS_ADDR": "127.0.0.1:0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &logbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()
	waitFor(t, "workers started", func() bool { return strings.Contains(out.String(), "processing queues") })

	// The gateway's side: ledger rows in the shared store, a rollup on Redis.
	db, err := store.Open(ctx, filepath.Join(dataDir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := []store.LedgerRow{{TenantID: "acme", RequestID: "r1", Route: "chat", Model: "m", PromptTokens: 5, Status: 200, CreatedAt: 2000}}
	if err := db.InsertLedger(ctx, rows); err != nil {
		t.Fatal(err)
	}
	gateway, err := jobs.NewClient(rdb, jobs.RollupKind(db))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.Enqueue(ctx, jobs.NewRollupTask("hour")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rollup run by the workers", func() bool {
		rolled, newest, _ := db.Watermark(ctx, "hour")
		return newest > 0 && rolled == newest
	})
	usage, err := db.Usage(ctx, "acme", store.UsageQuery{From: 0, To: 10_000_000, Bucket: "hour"})
	if err != nil || len(usage) != 1 || usage[0].PromptTokens != 5 {
		t.Fatalf("usage %+v, %v", usage, err)
	}

	journals, err := os.ReadDir(filepath.Join(dataDir, "journal"))
	if err != nil || len(journals) != 1 {
		t.Fatalf("the workers must bill under a journal of their own: %v, %v", journals, err)
	}
	// The middleware counts the attempt once the handler has returned.
	waitFor(t, "rollup counted in the workers' /metrics", func() bool {
		return strings.Contains(metrics(t, out.String()), `spass_jobs_processed_total{type="billing:rollup"} 1`)
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// metrics fetches the workers' /metrics at the address they printed.
func metrics(t *testing.T, stdout string) string {
	t.Helper()
	_, rest, ok := strings.Cut(stdout, "metrics on ")
	url, _, _ := strings.Cut(rest, "\n")
	if !ok {
		t.Fatalf("no metrics address announced: %q", stdout)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestWorkersNeedRedis(t *testing.T) {
	env := map[string]string{"SPASS_DATA_DIR": t.TempDir()}
	err := run(context.Background(), func(k string) string { return env[k] }, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("without REDIS_URL: %v", err)
	}
}

// TestWorkersRunInference enqueues a chat completion on Redis, as a gateway with
// REDIS_URL does, and the workers run it through the chat core: one stored result,
// and a ledger row under the workers' own journal that carries the job's request
// id, the batch surface and the batch id.
func TestWorkersRunInference(t *testing.T) {
	rdb := redistest.Open(t, redisDB)
	backend := httptest.NewServer(simulator.New(simulator.Options{}))
	defer backend.Close()
	dataDir := t.TempDir()
	env := map[string]string{
		"REDIS_URL":        "redis://127.0.0.1:6379/5",
		"SPASS_DATA_DIR":   dataDir,
		"BACKEND_KIND":     "vllm",
		"BACKEND_BASE_URL": backend.URL,
		"MODEL_NAME":       "sim-chat",
		"API_KEYS":         "sk-workers-test",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &logbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()
	waitFor(t, "workers started", func() bool { return strings.Contains(out.String(), "processing queues") })

	gateway, err := jobs.NewClient(rdb, jobs.InferenceKind(nil, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	p := identity.Principal{Tenant: "default", Role: identity.RoleUser, User: "bob"}
	body := json.RawMessage(`{"model":"sim-chat","messages":[{"role":"user","content":"from the queue"}]}`)
	if _, err := jobs.EnqueueInference(ctx, gateway, p, jobs.InferencePayload{Body: body, Ref: "batch_w", Key: "l1"}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dataDir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res store.JobResult
	waitFor(t, "the result stored by the workers", func() bool {
		var ok bool
		res, ok, _ = db.JobResult(ctx, "default", "batch_w", "l1")
		return ok
	})
	if res.Status != 200 || !strings.Contains(string(res.Body), "Hello! You said: from the queue") {
		t.Fatalf("result %d %s", res.Status, res.Body)
	}
	// The ledger row is committed by the workers' ledger writer, off the job's path.
	var rows []store.LedgerRow
	waitFor(t, "the workers' ledger row", func() bool {
		rows, _ = db.LedgerRows(ctx, "default", 0, time.Now().Add(time.Hour).UnixMilli())
		return len(rows) == 1
	})
	if r := rows[0]; r.RequestID != res.RequestID || r.Surface != "batch" || r.Ref != "batch_w" || r.UserID != "bob" || r.CompletionTokens == 0 {
		t.Fatalf("ledger row %+v, result request id %q", r, res.RequestID)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}
