package shim

import (
	"context"
	"errors"
	"testing"
	"time"

	"spass/local/redistest"
	"spass/shared/app"
	"spass/shared/config"
	"spass/shared/jobs"
	"spass/shared/store"
)

// redisDB is this package's own Redis database.
const redisDB = 6

func openApp(t *testing.T, env map[string]string) *app.App {
	t.Helper()
	env["SPASS_DATA_DIR"] = t.TempDir()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not reached", what)
}

// rolledUp waits until the ledger holds rows rows, all in the hourly rollup.
func rolledUp(t *testing.T, db *store.DB, rows int64) {
	t.Helper()
	waitFor(t, "rolled up", func() bool {
		rolled, newest, _ := db.Watermark(context.Background(), "hour")
		return newest == rows && rolled == newest
	})
}

func insert(t *testing.T, db *store.DB, requestID string, createdAt int64) {
	t.Helper()
	row := store.LedgerRow{TenantID: "acme", RequestID: requestID, Route: "chat", Model: "m", Status: 200, CreatedAt: createdAt}
	if err := db.InsertLedger(context.Background(), []store.LedgerRow{row}); err != nil {
		t.Fatal(err)
	}
}

// TestJobsRunInProcessWithoutRedis: the embedded default starts the app's
// in-process runner, catches the rollups up at start, and runs what is enqueued
// through app.Jobs.
func TestJobsRunInProcessWithoutRedis(t *testing.T) {
	a := openApp(t, map[string]string{})
	if a.LocalJobs == nil || a.Jobs != jobs.Enqueuer(a.LocalJobs) {
		t.Fatalf("without Redis, Jobs must be the in-process runner: %T", a.Jobs)
	}
	insert(t, a.Store, "r1", 1000)
	stop, err := a.StartJobs(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	rolledUp(t, a.Store, 1) // the catch-up at start

	insert(t, a.Store, "r2", 5000)
	if _, err := a.Jobs.Enqueue(context.Background(), jobs.NewRollupTask("hour")); err != nil {
		t.Fatal(err)
	}
	rolledUp(t, a.Store, 2)
}

// TestJobsNeedAStartedRunner: an app nobody started jobs for (a Lambda function
// without REDIS_URL) refuses to enqueue rather than keep a task nothing runs.
func TestJobsNeedAStartedRunner(t *testing.T) {
	a := openApp(t, map[string]string{})
	if _, err := a.Jobs.Enqueue(context.Background(), jobs.NewRollupTask("hour")); !errors.Is(err, jobs.ErrNotStarted) {
		t.Fatalf("enqueue without a runner: %v", err)
	}
}

// TestJobsRunOnRedisInsideTheGateway: with REDIS_URL and SPASS_WORKERS=inprocess
// the gateway runs the asynq workers itself; app.Jobs enqueues on Redis.
func TestJobsRunOnRedisInsideTheGateway(t *testing.T) {
	redistest.Open(t, redisDB)
	env := map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/6", "SPASS_WORKERS": "inprocess"}
	a := openApp(t, env)
	if a.LocalJobs != nil {
		t.Fatal("with Redis there is no in-process runner")
	}
	stop, err := a.StartJobs(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	insert(t, a.Store, "r1", 3000)
	if _, err := a.Jobs.Enqueue(context.Background(), jobs.NewRollupTask("hour")); err != nil {
		t.Fatal(err)
	}
	rolledUp(t, a.Store, 1)
}
