package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/batch"
)

// TypeBatchDispatch enqueues the lines of a batch's input file, one inference
// task each, and starts the batch. It may run any number of times: lines with a
// result are skipped, and a line still queued keeps its task (its task id).
const TypeBatchDispatch = "batch:dispatch"

// DispatchHandler dispatches batches.
type DispatchHandler struct{ B *Batches }

// ProcessTask dispatches the batch the task names, as its creator. A batch that
// is no longer validating or in progress has nothing to dispatch. A validating
// batch whose input file is gone fails.
func (h *DispatchHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	b, ok, err := h.B.load(ctx, t)
	if err != nil || !ok {
		return err
	}
	if b.Status != batch.Validating && b.Status != batch.InProgress {
		return nil
	}
	f, err := h.B.Files.Open(b.TenantID, b.InputFileID)
	if errors.Is(err, fs.ErrNotExist) {
		return h.fail(ctx, b, apierr.FileNotFound, "The input file "+b.InputFileID+" no longer exists.")
	}
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	defer f.Close()
	now := time.Now().UnixMilli()
	if b.Status == batch.Validating {
		if _, err := h.B.DB.StartBatch(ctx, b.TenantID, b.ID, now); err != nil {
			return Failed(apierr.JobFailed, err)
		}
	}
	done, err := h.B.DB.JobResultKeys(ctx, b.TenantID, b.ID)
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	err = batch.EachLine(f, func(l batch.Line) error {
		if done[l.CustomID] {
			return nil
		}
		if err := h.B.enqueueLine(ctx, b, l); err != nil {
			return fmt.Errorf("batch %s, line %q: %w", b.ID, l.CustomID, err)
		}
		return nil
	})
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// fail ends a validating batch as failed with one error.
func (h *DispatchHandler) fail(ctx context.Context, b batch.Batch, code apierr.Code, msg string) error {
	errs, _ := json.Marshal(map[string]any{"object": "list", "data": []map[string]any{{"code": code, "message": msg, "param": "input_file_id", "line": nil}}})
	if _, err := h.B.DB.FailBatch(ctx, b.TenantID, b.ID, string(errs), time.Now().UnixMilli()); err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// load reads the batch a dispatch or finalize task names, as the task's tenant;
// a batch that is gone reports false.
func (bs *Batches) load(ctx context.Context, t *asynq.Task) (batch.Batch, bool, error) {
	var p BatchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.BatchID == "" {
		return batch.Batch{}, false, Invalid(fmt.Errorf("batch payload: %v", err))
	}
	who := Principal(ctx)
	if who.Tenant == "" {
		return batch.Batch{}, false, Invalid(errors.New("batch task without a principal"))
	}
	b, ok, err := bs.DB.Batch(ctx, who.Tenant, "", p.BatchID)
	if err != nil {
		return b, false, Failed(apierr.JobFailed, err)
	}
	return b, ok, nil
}

// BatchDispatchKind is the dispatch step of bs's batches.
func BatchDispatchKind(bs *Batches) Kind {
	return Kind{Type: TypeBatchDispatch, Options: batchOptions(), Handler: &DispatchHandler{B: bs}}
}
