package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/batch"
	"spass/shared/filestore"
	"spass/shared/identity"
	"spass/shared/store"
)

// Batches holds what the batch job kinds (dispatch, finalize, sweep) and the
// batch lines of the inference kind share.
//
// A batch runs as one inference task per line, on QueueBatch: its dispatch
// enqueues the lines of its input file, each under the task id of its
// (tenant, batch, custom_id), so a line is queued once however often the
// dispatch runs. A line runs only while its batch is in progress, claiming its
// place in the batch's running count, and its result is stored once, with the
// batch's counts, in one transaction. The result that completes the batch moves
// it to finalizing and enqueues the finalize, which writes the output and error
// files. With Redis the tasks survive a killed worker (asynq hands them to the
// next); the in-process runner keeps nothing, so its first sweep dispatches
// every batch in progress again, and lines that have a result do not run.
type Batches struct {
	DB    *store.DB
	Files *filestore.Dir
	// Gate bounds the lines this process sends to each backend at once.
	Gate *Gate
	// Retries is how often a line that failed on the backend is retried before
	// its error is its result.
	Retries int
	// Resume is set when the runner keeps no tasks across restarts (the
	// in-process runner): the first sweep of the process dispatches every batch
	// in progress again.
	Resume bool
	// Jobs enqueues the lines and the batch steps; the composition root sets it
	// once the enqueuer exists (it needs the kinds first).
	Jobs Enqueuer
}

// batchOptions: the batch queue. A dispatch of 50,000 lines or the finalize of
// their results takes well under the timeout; retries cover a store that was
// busy or a Redis that was briefly away.
func batchOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueBatch), asynq.MaxRetry(10), asynq.Timeout(30 * time.Minute)}
}

// BatchPayload names the batch a dispatch, finalize or sweep step acts on.
type BatchPayload struct {
	BatchID string `json:"batch_id"`
}

// batchTask builds a dispatch or finalize task for b, run as b's creator.
func batchTask(typ string, b batch.Batch) *asynq.Task {
	payload, _ := json.Marshal(BatchPayload{BatchID: b.ID})
	return NewTaskAs(b.Principal(), typ, payload, batchOptions()...)
}

// enqueueOnce enqueues t under id; a task with that id still queued or
// running is the same work, so the conflict is not an error.
func (bs *Batches) enqueueOnce(ctx context.Context, t *asynq.Task, id string) error {
	_, err := bs.Jobs.Enqueue(ctx, t, asynq.TaskID(id))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// Dispatch enqueues b's dispatch: its lines are enqueued, and a validating b
// starts. It returns ErrNotStarted when no runner would run it (under Lambda
// without Redis).
func (bs *Batches) Dispatch(ctx context.Context, b batch.Batch) error {
	return bs.enqueueOnce(ctx, batchTask(TypeBatchDispatch, b), TypeBatchDispatch+":"+b.ID)
}

// Finalize enqueues b's finalize: its result files are written once its
// running lines are done, and it takes its ending status.
func (bs *Batches) Finalize(ctx context.Context, b batch.Batch) error {
	return bs.enqueueOnce(ctx, batchTask(TypeBatchFinalize, b), TypeBatchFinalize+":"+b.ID)
}

// crashRetries are the attempts a line's task has beyond the batch retries:
// asynq counts an attempt lost with a killed worker as a retry, and archives a
// task out of retries, which would leave its line without a result. The line
// itself stops retrying backend failures after Retries (see runLine).
const crashRetries = 3

// enqueueLine enqueues one line of b on the batch queue.
func (bs *Batches) enqueueLine(ctx context.Context, b batch.Batch, l batch.Line) error {
	_, err := EnqueueInference(ctx, bs.Jobs, b.Principal(), InferencePayload{Body: l.Body, Surface: "batch",
		Ref: b.ID, Key: l.CustomID, Endpoint: l.URL, Batch: true}, asynq.Queue(QueueBatch), asynq.MaxRetry(bs.Retries+crashRetries))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// runLine runs one batch line for who: once, while its batch is in progress,
// within the gate, its result stored with the batch's counts.
func (bs *Batches) runLine(ctx context.Context, who identity.Principal, p InferencePayload, run runFunc) error {
	if _, done, err := bs.DB.JobResult(ctx, who.Tenant, p.Ref, p.Key); err != nil {
		return Failed(apierr.JobFailed, err)
	} else if done {
		// A retry after a crash between the result and the finalize's enqueue.
		return bs.finalizeIfDue(ctx, who.Tenant, p.Ref)
	}
	claimed, err := bs.DB.ClaimBatchLine(ctx, who.Tenant, p.Ref)
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	if !claimed {
		return nil // cancelled or expired: the finalize lists the line as not run
	}
	var gate func(context.Context, string) (func(), error)
	if bs.Gate != nil {
		gate = bs.Gate.Acquire
	}
	res, body, err := run(ctx, who, p, gate)
	status, body, retry := outcome(ctx, err, body, attemptOf(ctx).retried >= bs.Retries)
	if retry != nil {
		if err := bs.DB.ReleaseBatchLine(context.WithoutCancel(ctx), who.Tenant, p.Ref); err != nil {
			return Failed(apierr.JobFailed, errors.Join(retry, err))
		}
		return retry
	}
	r := store.JobResult{TenantID: who.Tenant, Ref: p.Ref, Key: p.Key, RequestID: res.RequestID, Status: status, Body: body}
	_, finalizing, err := bs.DB.SaveBatchResult(context.WithoutCancel(ctx), r, res.Usage.Prompt, res.Usage.Completion)
	if err != nil {
		bs.DB.ReleaseBatchLine(context.WithoutCancel(ctx), who.Tenant, p.Ref)
		return Failed(apierr.JobFailed, err)
	}
	if finalizing {
		return bs.finalizeIfDue(ctx, who.Tenant, p.Ref)
	}
	return nil
}

// finalizeIfDue enqueues the finalize of the tenant's batch id when it waits for one.
func (bs *Batches) finalizeIfDue(ctx context.Context, tenant, id string) error {
	b, ok, err := bs.DB.Batch(ctx, tenant, "", id)
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	if !ok || (b.Status != batch.Finalizing && b.Status != batch.Cancelling) {
		return nil
	}
	if err := bs.Finalize(ctx, b); err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// outcome turns a run's error into the result to store (status and body), or
// into the error to return for a retry: the backends were down, timed out or
// rate limited and this is not the last attempt, or the runner is shutting down
// (the task runs again, so nothing is stored). A line that timed out on its
// last attempt stores the timeout.
func outcome(ctx context.Context, err error, body []byte, last bool) (int, []byte, error) {
	if err == nil {
		return http.StatusOK, body, nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return 0, nil, Failed(apierr.JobFailed, err)
	}
	e := apierr.From(err)
	if ctx.Err() != nil {
		e = apierr.E(apierr.UpstreamTimeout, "", err)
	}
	if retryable(e) && !last {
		return 0, nil, Failed(e.Code, err)
	}
	return e.Status(), e.Body(), nil
}

// Gate bounds the batch lines this process sends to each backend at once:
// Limit per backend, or its PerBackend entry.
type Gate struct {
	limit      int
	perBackend map[string]int

	mu   sync.Mutex
	sems map[string]chan struct{}
}

// NewGate returns a gate of limit lines per backend, perBackend overriding it.
func NewGate(limit int, perBackend map[string]int) *Gate {
	return &Gate{limit: max(limit, 1), perBackend: perBackend, sems: map[string]chan struct{}{}}
}

// Acquire waits for a turn on backend until ctx ends; release ends the turn.
// It has the shape of chat.Options.Gate.
func (g *Gate) Acquire(ctx context.Context, backend string) (func(), error) {
	g.mu.Lock()
	sem, ok := g.sems[backend]
	if !ok {
		n := g.limit
		if v, set := g.perBackend[backend]; set {
			n = v
		}
		sem = make(chan struct{}, n)
		g.sems[backend] = sem
	}
	g.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
