package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"spass/local/redistest"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/requestid"
	"spass/shared/store"
)

// redisDB is this package's own Redis database, so packages can test in parallel.
const (
	redisDB  = 3
	redisURL = "redis://127.0.0.1:6379/3"
)

func openDB(t *testing.T) *store.DB {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
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

// probe is a test job kind whose handler records what each attempt saw and fails
// as fail says.
type probe struct {
	mu    sync.Mutex
	calls int
	seen  []seen
	fail  func(attempt int) error // nil: every attempt succeeds
	gate  chan struct{}           // when set, each attempt waits for it
}

type seen struct {
	requestID string
	principal identity.Principal
	origin    string
	deadline  bool
}

const typeProbe = "test:probe"

func (p *probe) kind(opts ...asynq.Option) jobs.Kind {
	return jobs.Kind{Type: typeProbe, Options: append([]asynq.Option{asynq.Queue(jobs.QueueCompaction)}, opts...), Handler: p}
}

func (p *probe) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if p.gate != nil {
		<-p.gate
	}
	_, deadline := ctx.Deadline()
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.seen = append(p.seen, seen{requestid.From(ctx), jobs.Principal(ctx), jobs.Origin(ctx), deadline})
	p.mu.Unlock()
	if p.fail != nil {
		return p.fail(n)
	}
	return nil
}

func (p *probe) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func (p *probe) last() seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[len(p.seen)-1]
}

// runner is one of the two ways to run jobs, started on kinds.
type runner struct {
	name  string
	start func(t *testing.T, kinds ...jobs.Kind) jobs.Enqueuer
}

var runners = []runner{
	{"redis", func(t *testing.T, kinds ...jobs.Kind) jobs.Enqueuer {
		rdb := redistest.Open(t, redisDB)
		w, err := jobs.NewWorkers(redisURL, jobs.WorkersConfig{Concurrency: 2}, kinds...)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Shutdown)
		c, err := jobs.NewClient(rdb, kinds...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
	{"in-process", func(t *testing.T, kinds ...jobs.Kind) jobs.Enqueuer {
		return startLocal(t, jobs.LocalConfig{}, kinds...)
	}},
}

func startLocal(t *testing.T, cfg jobs.LocalConfig, kinds ...jobs.Kind) *jobs.Local {
	l, err := jobs.NewLocal(cfg, kinds...)
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	return l
}

// TestRollupRunsOnBothRunners enqueues the same rollup through each runner's
// Enqueuer: it runs through the same handler and rolls the ledger up.
func TestRollupRunsOnBothRunners(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			rows := []store.LedgerRow{{TenantID: "acme", RequestID: "r1", Route: "chat", Model: "m", PromptTokens: 3, Status: 200, CreatedAt: 1000}}
			if err := db.InsertLedger(ctx, rows); err != nil {
				t.Fatal(err)
			}
			e := r.start(t, jobs.RollupKind(db))
			if _, err := e.Enqueue(ctx, jobs.NewRollupTask("hour")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "hour rolled up", func() bool {
				rolled, newest, _ := db.Watermark(ctx, "hour")
				return newest > 0 && rolled == newest
			})
			usage, err := db.Usage(ctx, "acme", store.UsageQuery{From: 0, To: 10_000_000, Bucket: "hour"})
			if err != nil || len(usage) != 1 || usage[0].Requests != 1 || usage[0].PromptTokens != 3 {
				t.Fatalf("usage %+v, %v", usage, err)
			}
		})
	}
}

// TestEnvelopeReachesTheHandler: the principal a task was built for, its own
// request id and the enqueuing request's id are in the handler's context, on
// both runners.
func TestEnvelopeReachesTheHandler(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			p := &probe{}
			e := r.start(t, p.kind())
			who := identity.Principal{Tenant: "acme", User: "u-7", Role: identity.RoleUser, Token: "ci"}
			ctx := requestid.With(context.Background(), "req_enqueuer")
			info, err := e.Enqueue(ctx, jobs.NewTaskAs(who, typeProbe, []byte(`{}`)))
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "job ran", func() bool { return p.count() == 1 })
			got := p.last()
			if got.principal != who {
				t.Errorf("principal %+v, want %+v", got.principal, who)
			}
			if got.origin != "req_enqueuer" {
				t.Errorf("origin %q, want the enqueuing request's id", got.origin)
			}
			if got.requestID == "" || got.requestID == "req_enqueuer" || got.requestID != info.Headers[jobs.HeaderRequestID] {
				t.Errorf("request id %q: want the job's own id %q", got.requestID, info.Headers[jobs.HeaderRequestID])
			}

			// A system task runs as nobody, still under a request id of its own.
			if _, err := e.Enqueue(context.Background(), asynq.NewTask(typeProbe, []byte(`{"n":2}`))); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "second job ran", func() bool { return p.count() == 2 })
			if got2 := p.last(); got2.principal != (identity.Principal{}) || got2.requestID == "" || got2.requestID == got.requestID || got2.origin != "" {
				t.Errorf("system task saw %+v", got2)
			}
		})
	}
}

// TestUniqueRefusesDuplicates: while a Unique task is held, the same task is
// refused with asynq.ErrDuplicateTask on both runners.
func TestUniqueRefusesDuplicates(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			p := &probe{gate: make(chan struct{})}
			e := r.start(t, p.kind())
			defer close(p.gate)
			ctx := context.Background()
			if _, err := e.Enqueue(ctx, asynq.NewTask(typeProbe, []byte(`{}`)), asynq.Unique(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Enqueue(ctx, asynq.NewTask(typeProbe, []byte(`{}`)), asynq.Unique(time.Minute)); !errors.Is(err, asynq.ErrDuplicateTask) {
				t.Errorf("a second unique task must be refused with ErrDuplicateTask, got %v", err)
			}
			if _, err := e.Enqueue(ctx, asynq.NewTask(typeProbe, []byte(`{"other":1}`)), asynq.Unique(time.Minute)); err != nil {
				t.Errorf("another payload is another task: %v", err)
			}
			if _, err := e.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.TaskID("t-1")); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.TaskID("t-1")); !errors.Is(err, asynq.ErrTaskIDConflict) {
				t.Errorf("a task id in use must be refused with ErrTaskIDConflict, got %v", err)
			}
		})
	}
}

// TestEnqueueRefusesWhatNoRunnerServes: unknown kinds and queues fail at Enqueue,
// not by sitting in a queue nobody reads.
func TestEnqueueRefusesWhatNoRunnerServes(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			p := &probe{}
			e := r.start(t, p.kind())
			ctx := context.Background()
			if _, err := e.Enqueue(ctx, asynq.NewTask("test:nobody", nil)); !errors.Is(err, jobs.ErrUnknownKind) {
				t.Errorf("unknown kind: %v", err)
			}
			if _, err := e.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.Queue("default")); !errors.Is(err, jobs.ErrUnknownQueue) {
				t.Errorf("unknown queue: %v", err)
			}
		})
	}
}

// TestWorkersArchiveInvalidPayloads: a payload no retry can fix is archived at
// once, with its catalog code.
func TestWorkersArchiveInvalidPayloads(t *testing.T) {
	db := openDB(t)
	e := runners[0].start(t, jobs.RollupKind(db))
	bad := asynq.NewTask(jobs.TypeRollup, []byte(`{"bucket":"week"}`))
	if _, err := e.Enqueue(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	opt, _ := asynq.ParseRedisURI(redisURL)
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	var archived []*asynq.TaskInfo
	waitFor(t, "archived", func() bool {
		archived, _ = insp.ListArchivedTasks(jobs.QueueBilling)
		return len(archived) == 1
	})
	if !strings.Contains(archived[0].LastErr, "job_payload_invalid") || archived[0].Retried != 0 {
		t.Fatalf("archived after %d retries with %q", archived[0].Retried, archived[0].LastErr)
	}
}

// TestMiddlewareCountsAttempts: the instruments land on the registry passed in.
func TestMiddlewareCountsAttempts(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := &probe{fail: func(n int) error { return errors.New("boom") }}
	l := startLocal(t, jobs.LocalConfig{Metrics: reg}, p.kind(asynq.MaxRetry(0)))
	if _, err := l.Enqueue(context.Background(), asynq.NewTask(typeProbe, nil)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "attempt counted", func() bool { return counter(t, reg, "spass_jobs_failed_total", typeProbe) == 1 })
	if got := counter(t, reg, "spass_jobs_processed_total", typeProbe); got != 1 {
		t.Errorf("processed %v, want 1", got)
	}
}

// counter reads a counter's value for one task type from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, typ string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" && l.GetValue() == typ {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
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
