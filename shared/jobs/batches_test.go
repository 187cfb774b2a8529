package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/batch"
	"spass/shared/filestore"
	"spass/shared/jobs"
	"spass/shared/store"
)

// recorder is an Enqueuer that keeps what it is given, refusing a task id it
// holds as asynq does.
type recorder struct {
	mu    sync.Mutex
	tasks []recorded
	ids   map[string]bool
}

type recorded struct {
	task *asynq.Task
	opts map[asynq.OptionType]any
}

func (r *recorder) Enqueue(_ context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := recorded{task: t, opts: map[asynq.OptionType]any{}}
	for _, o := range opts {
		rec.opts[o.Type()] = o.Value()
	}
	id, _ := rec.opts[asynq.TaskIDOpt].(string)
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	if r.ids[id] {
		return nil, asynq.ErrTaskIDConflict
	}
	r.ids[id] = true
	r.tasks = append(r.tasks, rec)
	return &asynq.TaskInfo{ID: id}, nil
}

// take returns the tasks of type typ recorded so far and forgets them (their
// ids stay taken).
func (r *recorder) take(typ string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []recorded
	for _, t := range r.tasks {
		if t.task.Type() == typ {
			out = append(out, t)
		} else {
			rest = append(rest, t)
		}
	}
	r.tasks = rest
	return out
}

// batchFixture is a store, a file store and a batch of n chat lines of tenant
// acme in status, behind a recorder.
func batchFixture(t *testing.T, n int, status batch.Status) (*jobs.Batches, *recorder, batch.Batch) {
	t.Helper()
	rec := &recorder{}
	bs := &jobs.Batches{DB: openDB(t), Files: filestore.New(filepath.Join(t.TempDir(), "files")), Retries: 2, Jobs: rec}
	in := batch.File{ID: batch.NewFileID(), TenantID: "acme", UserID: "alice", Purpose: batch.PurposeBatch, Lines: n, Endpoint: batch.EndpointChat}
	w, err := bs.Files.Create("acme", in.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		fmt.Fprintf(w, `{"custom_id":"l%d","method":"POST","url":"/v1/chat/completions","body":{"model":"sim-chat","messages":[{"role":"user","content":"%d"}]}}`+"\n", i, i)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := bs.DB.PutFile(ctx, in); err != nil {
		t.Fatal(err)
	}
	b := batch.Batch{ID: batch.NewBatchID(), TenantID: "acme", UserID: "alice", Role: "user", Token: "t", Endpoint: batch.EndpointChat,
		InputFileID: in.ID, CompletionWindow: "24h", Metadata: "{}", Status: status, Total: n,
		CreatedAt: time.Now().UnixMilli(), ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}
	if err := bs.DB.CreateBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	return bs, rec, b
}

// run runs the recorded task through the middleware that opens its envelope.
func run(t *testing.T, k jobs.Kind, r recorded) error {
	t.Helper()
	return jobs.Middleware(nil)(k.Handler).ProcessTask(context.Background(), r.task)
}

func getBatch(t *testing.T, db *store.DB, id string) batch.Batch {
	t.Helper()
	b, ok, err := db.Batch(context.Background(), "acme", "", id)
	if err != nil || !ok {
		t.Fatalf("batch %s: %v %v", id, ok, err)
	}
	return b
}

// TestDispatchQueuesEachLineOnceAtLowPriority: the dispatch starts the batch and
// enqueues each line without a result on the batch queue, as its creator, with
// the batch retries plus spare attempts; dispatched again, it queues nothing
// twice.
func TestDispatchQueuesEachLineOnceAtLowPriority(t *testing.T) {
	ctx := context.Background()
	bs, rec, b := batchFixture(t, 3, batch.Validating)
	if _, err := bs.DB.SaveJobResult(ctx, store.JobResult{TenantID: "acme", Ref: b.ID, Key: "l1", Status: 200, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := bs.Dispatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	dispatch := rec.take(jobs.TypeBatchDispatch)
	if len(dispatch) != 1 {
		t.Fatalf("%d dispatch tasks", len(dispatch))
	}
	kind := jobs.BatchDispatchKind(bs)
	if err := run(t, kind, dispatch[0]); err != nil {
		t.Fatal(err)
	}
	if got := getBatch(t, bs.DB, b.ID); got.Status != batch.InProgress || got.InProgressAt == 0 {
		t.Fatalf("after the dispatch: %s", got.Status)
	}
	lines := rec.take(jobs.TypeInference)
	keys := map[string]bool{}
	for _, l := range lines {
		var p jobs.InferencePayload
		json.Unmarshal(l.task.Payload(), &p)
		keys[p.Key] = true
		h := l.task.Headers()
		if l.opts[asynq.QueueOpt] != jobs.QueueBatch || l.opts[asynq.MaxRetryOpt] != 5 || !p.Batch || p.Ref != b.ID ||
			h[jobs.HeaderTenant] != "acme" || h[jobs.HeaderUser] != "alice" {
			t.Fatalf("line %s: options %v, payload %+v, headers %v", p.Key, l.opts, p, h)
		}
	}
	if len(lines) != 2 || !keys["l0"] || !keys["l2"] {
		t.Fatalf("lines queued: %v; l1 has a result", keys)
	}
	if jobs.Queues()[jobs.QueueBatch] >= jobs.Queues()[jobs.QueueInference] {
		t.Fatalf("the batch queue must weigh less than the interactive inference queue: %v", jobs.Queues())
	}
	if err := run(t, kind, dispatch[0]); err != nil {
		t.Fatal(err)
	}
	if again := rec.take(jobs.TypeInference); len(again) != 0 {
		t.Fatalf("a second dispatch queued %d lines again", len(again))
	}
}

// TestSweepExpiresAndFinalizes: a batch past its window is expired by the sweep;
// its finalize writes the line that ran to the output file and the others to
// the error file as batch_expired.
func TestSweepExpiresAndFinalizes(t *testing.T) {
	ctx := context.Background()
	bs, rec, b := batchFixture(t, 3, batch.InProgress)
	r := store.JobResult{TenantID: "acme", Ref: b.ID, Key: "l2", RequestID: "req_1", Status: 200, Body: []byte(`{"ok":true}`)}
	if _, _, err := bs.DB.SaveBatchResult(ctx, r, 3, 4); err != nil {
		t.Fatal(err)
	}
	sweep := jobs.BatchSweepKind(bs)
	if err := sweep.Handler.ProcessTask(ctx, asynq.NewTask(jobs.TypeBatchSweep, nil)); err != nil {
		t.Fatal(err)
	}
	if len(rec.take(jobs.TypeBatchFinalize)) != 0 || getBatch(t, bs.DB, b.ID).Status != batch.InProgress {
		t.Fatal("a batch within its window was touched")
	}
	raw, _ := store.OpenRaw(bs.DB.Path)
	raw.Exec(`UPDATE batches SET expires_at = 1 WHERE id = ?`, b.ID)
	raw.Close()
	if err := sweep.Handler.ProcessTask(ctx, asynq.NewTask(jobs.TypeBatchSweep, nil)); err != nil {
		t.Fatal(err)
	}
	fin := rec.take(jobs.TypeBatchFinalize)
	if got := getBatch(t, bs.DB, b.ID); len(fin) != 1 || got.Status != batch.Finalizing || got.Ending != batch.Expired {
		t.Fatalf("after the sweep: %d finalize tasks, %s ending %s", len(fin), got.Status, got.Ending)
	}
	if claimed, _ := bs.DB.ClaimBatchLine(ctx, "acme", b.ID); claimed {
		t.Fatal("a line of an expired batch may not start")
	}
	if err := run(t, jobs.BatchFinalizeKind(bs), fin[0]); err != nil {
		t.Fatal(err)
	}
	got := getBatch(t, bs.DB, b.ID)
	if got.Status != batch.Expired || got.ExpiredAt == 0 || got.Completed != 1 || got.PromptTokens != 3 {
		t.Fatalf("after the finalize: %+v", got)
	}
	out, errs := readLines(t, bs, got.OutputFileID), readLines(t, bs, got.ErrorFileID)
	if len(out) != 1 || out[0].CustomID != "l2" || len(errs) != 2 {
		t.Fatalf("output %+v, errors %+v", out, errs)
	}
	for _, l := range errs {
		if l.Error == nil || l.Error.Code != "batch_expired" || l.Response != nil {
			t.Fatalf("error line %+v", l)
		}
	}
	// Finalized again (a retry after a crash), it changes nothing.
	if err := run(t, jobs.BatchFinalizeKind(bs), fin[0]); err != nil || getBatch(t, bs.DB, b.ID) != got {
		t.Fatalf("a second finalize: %v", err)
	}
}

// TestSweepResumesOnceInProcess: with a runner that keeps no tasks, the first
// sweep of a process dispatches a batch in progress again; later sweeps leave
// it to its queued lines.
func TestSweepResumesOnceInProcess(t *testing.T) {
	bs, rec, _ := batchFixture(t, 2, batch.InProgress)
	bs.Resume = true
	sweep := jobs.BatchSweepKind(bs)
	for range 2 {
		if err := sweep.Handler.ProcessTask(context.Background(), asynq.NewTask(jobs.TypeBatchSweep, nil)); err != nil {
			t.Fatal(err)
		}
		rec.ids = nil // a dispatch that ran frees its id
	}
	if n := len(rec.take(jobs.TypeBatchDispatch)); n != 1 {
		t.Fatalf("%d dispatches over two sweeps, want 1", n)
	}
}

func readLines(t *testing.T, bs *jobs.Batches, id string) []batch.Output {
	t.Helper()
	f, err := bs.Files.Open("acme", id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []batch.Output
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l batch.Output
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// TestGateBoundsEachBackend lets limit lines through per backend (its own
// limit where set); the next waits until one leaves, or fails when its context
// ends first.
func TestGateBoundsEachBackend(t *testing.T) {
	g := jobs.NewGate(2, map[string]int{"small": 1})
	ctx := context.Background()
	ended, cancel := context.WithCancel(ctx)
	cancel()
	release, err := g.Acquire(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Acquire(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Acquire(ended, "big"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a third line on big: %v", err)
	}
	if _, err := g.Acquire(ctx, "small"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Acquire(ended, "small"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a second line on small: %v", err)
	}
	release()
	if _, err := g.Acquire(ctx, "big"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := g.Acquire(ended, "big"); !errors.Is(err, context.Canceled) {
		t.Fatalf("past the limit again: %v", err)
	}
}
