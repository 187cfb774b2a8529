package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"spass/local/redistest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/jobs"
	"spass/shared/store"
)

// redisURL is this package's own Redis database, so packages can test in parallel.
const redisURL = "redis://127.0.0.1:6379/3"

func needRedis(t *testing.T) { redistest.Open(t, 3) }

func openDB(t *testing.T) *store.DB {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached")
}

func TestWorkersRollUpAndArchiveFailures(t *testing.T) {
	needRedis(t)
	ctx := context.Background()
	db := openDB(t)
	rows := []store.LedgerRow{{TenantID: "acme", RequestID: "r1", Route: "chat", Model: "m", PromptTokens: 3, Status: 200, CreatedAt: 1000}}
	if err := db.InsertLedger(ctx, rows); err != nil {
		t.Fatal(err)
	}
	w, err := jobs.NewWorkers(redisURL, db, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Shutdown()
	opt, _ := asynq.ParseRedisURI(redisURL)
	client := asynq.NewClient(opt)
	defer client.Close()

	if _, err := client.Enqueue(jobs.NewRollupTask("hour"), asynq.Unique(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(jobs.NewRollupTask("hour"), asynq.Unique(time.Minute)); !errors.Is(err, asynq.ErrDuplicateTask) {
		t.Errorf("a second rollup in the same period must be refused as a duplicate, got %v", err)
	}
	q := store.UsageQuery{From: 0, To: 10_000_000, Bucket: "hour"}
	waitFor(t, func() bool {
		rolled, newest, _ := db.Watermark(ctx, "hour")
		return rolled == newest
	})
	usage, _ := db.Usage(ctx, "acme", q)
	if len(usage) != 1 || usage[0].Requests != 1 || usage[0].PromptTokens != 3 {
		t.Fatalf("usage %+v", usage)
	}

	bad := asynq.NewTask(jobs.TypeRollup, []byte(`{"bucket":"week"}`), asynq.Queue(jobs.QueueBilling))
	if _, err := client.Enqueue(bad); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	var archived []*asynq.TaskInfo
	waitFor(t, func() bool {
		archived, _ = insp.ListArchivedTasks(jobs.QueueBilling)
		return len(archived) == 1
	})
	if !strings.Contains(archived[0].LastErr, "job_payload_invalid") {
		t.Fatalf("archived without a catalog code: %q", archived[0].LastErr)
	}
}

func TestRetryDelayBacksOff(t *testing.T) {
	prev := time.Duration(0)
	for n := 0; n < 15; n++ {
		d := jobs.RetryDelay(n, nil, nil)
		if d < prev || d > 10*time.Minute {
			t.Fatalf("retry %d: %s after %s", n, d, prev)
		}
		prev = d
	}
	if prev != 10*time.Minute {
		t.Fatalf("the delay must cap at 10m, got %s", prev)
	}
}

func TestRunLocalCatchesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db := openDB(t)
	db.InsertLedger(ctx, []store.LedgerRow{{TenantID: "acme", RequestID: "r", Route: "chat", Model: "m", Status: 200, CreatedAt: 5}})
	done := make(chan struct{})
	go func() { jobs.RunLocal(ctx, db); close(done) }()
	waitFor(t, func() bool { rolled, newest, _ := db.Watermark(ctx, "day"); return newest == 1 && rolled == newest })
	cancel()
	<-done
}
