package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/batch"
)

// TypeBatchSweep looks over every open batch once a minute: it ends the batches
// whose completion window is over, and enqueues the step each open batch waits
// for, in case the task that was to do it was lost (a crash between a status
// change and its enqueue). Every step it enqueues is idempotent, under its
// batch's task id.
const TypeBatchSweep = "batch:sweep"

// SweepHandler sweeps the open batches.
type SweepHandler struct {
	B *Batches
	// swept is set after this process's first sweep (see Batches.Resume).
	swept atomic.Bool
}

// ProcessTask sweeps. A validating batch gets its dispatch again; a batch in
// progress only on the first sweep of a runner that keeps no tasks (its lines
// were lost with the process); a finalizing or cancelling batch its finalize.
func (h *SweepHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	resume := h.B.Resume && h.swept.CompareAndSwap(false, true)
	open, err := h.B.DB.OpenBatches(ctx)
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	now := time.Now().UnixMilli()
	var errs []error
	for _, b := range open {
		if err := h.sweep(ctx, b, now, resume); err != nil {
			slog.Warn("batch sweep", "tenant", b.TenantID, "batch", b.ID, "err", err)
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// sweep does what b waits for.
func (h *SweepHandler) sweep(ctx context.Context, b batch.Batch, now int64, resume bool) error {
	running := b.Status == batch.Validating || b.Status == batch.InProgress
	switch {
	case running && now >= b.ExpiresAt:
		moved, err := h.B.DB.ExpireBatch(ctx, b.TenantID, b.ID, now)
		if err != nil || !moved {
			return err
		}
		return h.B.Finalize(ctx, b)
	case b.Status == batch.Validating || (b.Status == batch.InProgress && resume):
		return h.B.Dispatch(ctx, b)
	case b.Status == batch.Finalizing || b.Status == batch.Cancelling:
		return h.B.Finalize(ctx, b)
	}
	return nil
}

// BatchSweepKind is the sweep of bs's batches, every minute.
func BatchSweepKind(bs *Batches) Kind {
	opts := []asynq.Option{asynq.Queue(QueueBatch), asynq.MaxRetry(3), asynq.Timeout(5 * time.Minute)}
	return Kind{
		Type:    TypeBatchSweep,
		Options: opts,
		Handler: &SweepHandler{B: bs},
		Periodic: []Periodic{
			{Name: TypeBatchSweep, Spec: "* * * * *", Period: time.Minute, Task: asynq.NewTask(TypeBatchSweep, nil, opts...)},
		},
	}
}
