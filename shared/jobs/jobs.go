// Package jobs defines the gateway's background jobs once and runs them two ways:
// on asynq workers over Redis (Workers, the workers binary), or in the gateway
// process without Redis (Local, the embedded default). Both run the same
// asynq.Handler — the ServeMux of the registered kinds behind one middleware — and
// both are fed through one Enqueuer, so a handler cannot tell which runner called it.
//
// A job kind is one file: its task type, payload, NewXTask constructor, a handler
// struct holding its dependencies, and a func returning its Kind. The composition
// root (shared/app, JobKinds) lists the kinds with their dependencies: adding a
// kind is that file plus one line there. Handlers are idempotent, so a duplicate
// run changes nothing.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
)

// Queues, one per family of job kinds.
const (
	QueueBilling    = "billing"
	QueueCompaction = "compaction"
	QueueRAG        = "rag"
	QueueInference  = "inference"
	// QueueBatch is inference at low priority: the lines of /v1/batches and
	// their dispatch, finalize and sweep steps.
	QueueBatch = "batch"
)

// Queues maps each queue to its priority weight, the same in both runners:
// interactive work first. A task names its queue with asynq.Queue; a queue not
// listed here is refused at Enqueue, as no runner would serve it.
func Queues() map[string]int {
	return map[string]int{QueueInference: 6, QueueCompaction: 3, QueueRAG: 3, QueueBatch: 1, QueueBilling: 1}
}

// Kind is one job kind as the runners see it.
type Kind struct {
	// Type is the task type the mux routes on, e.g. "billing:rollup".
	Type string
	// Options are the kind's task options (queue, retries, timeout), applied by both
	// runners at Enqueue before the caller's. They are kept here, not only in the
	// task: asynq keeps a task's own options private, so the in-process runner
	// could not read them. NewXTask bakes the same options in, for callers that
	// use an asynq.Client directly.
	Options []asynq.Option
	// Handler runs one task; it holds the kind's dependencies.
	Handler asynq.Handler
	// Periodic lists the kind's tasks fired on a schedule (Scheduler).
	Periodic []Periodic
}

// Periodic is a task enqueued on a cron schedule read in UTC, once per period
// however many schedulers fire it.
type Periodic struct {
	// Name identifies the entry; with the period it names each period's task.
	Name string
	// Spec is a five-field cron spec, in UTC.
	Spec string
	// Period is how often Spec fires; a divisor of a day, so periods start on the
	// UTC hour or midnight.
	Period time.Duration
	// Task is what is enqueued each period.
	Task *asynq.Task
}

// TaskID names the task of the period that holds t: every scheduler firing in
// that period enqueues the same id, so only the first succeeds.
func (p Periodic) TaskID(t time.Time) string {
	return p.Name + "@" + t.UTC().Truncate(p.Period).Format("2006-01-02T15:04Z")
}

// Enqueuer puts a task on its queue: *Client with Redis, *Local without. The
// task's kind must be registered. It returns asynq.ErrDuplicateTask for a task
// still held by asynq.Unique, and asynq.ErrTaskIDConflict for a task id in use.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Errors of Enqueue, besides asynq's.
var (
	// ErrUnknownKind: the task's type is not a registered Kind.
	ErrUnknownKind = errors.New("jobs: unknown job kind")
	// ErrUnknownQueue: the task names a queue no runner serves.
	ErrUnknownQueue = errors.New("jobs: unknown queue")
)

// Mux routes each kind's tasks to its handler; both runners serve it, wrapped in
// Middleware.
func Mux(kinds ...Kind) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	for _, k := range kinds {
		mux.Handle(k.Type, k.Handler)
	}
	return mux
}

// Failed wraps a job error with its catalog code, so the archive says what failed.
func Failed(code apierr.Code, err error) error {
	return fmt.Errorf("%s: %w", code, err)
}

// Invalid marks a payload that no retry can fix: the task is archived at once.
func Invalid(err error) error {
	return fmt.Errorf("%w: %s", asynq.SkipRetry, Failed(apierr.JobPayloadInvalid, err))
}

// RetryDelay backs off exponentially from 2 s to 10 min; both runners use it.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := 2 * time.Second << min(n, 9)
	return min(d, 10*time.Minute)
}
