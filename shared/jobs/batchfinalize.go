package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/batch"
	"spass/shared/filestore"
	"spass/shared/store"
)

// TypeBatchFinalize writes a finished batch's output and error files and gives
// it its ending status: completed, cancelled or expired. Run again after a
// crash, it writes the same files under the same ids (batch.ResultFileID).
const TypeBatchFinalize = "batch:finalize"

// FinalizeHandler finalizes batches.
type FinalizeHandler struct{ B *Batches }

// errLinesRunning makes a finalize wait, by its retries, for the lines of a
// cancelled or expired batch that were running when it stopped.
var errLinesRunning = errors.New("lines of the batch are still running")

// ProcessTask finalizes the batch the task names once none of its lines runs;
// lines counted as running longer than a line may run belonged to a worker
// that died, and are not waited for.
func (h *FinalizeHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	b, ok, err := h.B.load(ctx, t)
	if err != nil || !ok {
		return err
	}
	if b.Status != batch.Finalizing && b.Status != batch.Cancelling {
		return nil
	}
	stopped := time.UnixMilli(max(b.CancellingAt, b.FinalizingAt))
	if b.Running > 0 && b.Ending != batch.Completed && time.Since(stopped) < lineTimeout+time.Minute {
		return Failed(apierr.JobFailed, fmt.Errorf("batch %s: %d %w", b.ID, b.Running, errLinesRunning))
	}
	out, errs, err := h.write(ctx, b)
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	if _, err := h.B.DB.FinishBatch(ctx, b.TenantID, b.ID, store.BatchFinish{OutputFileID: out, ErrorFileID: errs, At: time.Now().UnixMilli()}); err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// write writes b's result files and returns their ids ("" for a file with no
// line): every stored result, in the order the lines finished, in the output
// file (status 200) or the error file; then, for a batch that stopped early,
// each line of the input that never ran, in the error file.
func (h *FinalizeHandler) write(ctx context.Context, b batch.Batch) (outID, errID string, err error) {
	out, err := newResultFile(h.B, b, "output")
	if err != nil {
		return "", "", err
	}
	defer out.w.Abort()
	bad, err := newResultFile(h.B, b, "error")
	if err != nil {
		return "", "", err
	}
	defer bad.w.Abort()
	ran := map[string]bool{}
	err = h.B.DB.EachJobResult(ctx, b.TenantID, b.ID, func(r store.JobResult) error {
		ran[r.Key] = true
		body := r.Body
		if !json.Valid(body) {
			body = apierr.E(apierr.UpstreamError, "", nil).Body()
		}
		line := batch.Result(r.Key, r.RequestID, r.Status, body)
		if r.Status == 200 {
			return out.add(line)
		}
		return bad.add(line)
	})
	if err != nil {
		return "", "", err
	}
	if b.Ending != batch.Completed {
		if err := h.notRun(b, ran, bad); err != nil {
			return "", "", err
		}
	}
	if outID, err = out.commit(ctx, h.B); err != nil {
		return "", "", err
	}
	errID, err = bad.commit(ctx, h.B)
	return outID, errID, err
}

// notRun adds an error line for each line of b's input without a result.
func (h *FinalizeHandler) notRun(b batch.Batch, ran map[string]bool, bad *resultFile) error {
	code, msg := apierr.BatchCancelled, "The batch was cancelled before this request ran."
	if b.Ending == batch.Expired {
		code, msg = apierr.BatchExpired, "This request could not be executed before the completion window expired."
	}
	f, err := h.B.Files.Open(b.TenantID, b.InputFileID)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // never dispatched, and deleted since: no line to name
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return batch.EachLine(f, func(l batch.Line) error {
		if ran[l.CustomID] {
			return nil
		}
		ran[l.CustomID] = true
		return bad.add(batch.NotRun(b.ID, l.CustomID, string(code), msg))
	})
}

// resultFile is a result file being written.
type resultFile struct {
	b     batch.Batch
	kind  string
	w     *filestore.Writer
	buf   *bufio.Writer
	lines int
	bytes int64
}

func newResultFile(bs *Batches, b batch.Batch, kind string) (*resultFile, error) {
	w, err := bs.Files.Create(b.TenantID, batch.ResultFileID(b.ID, kind))
	if err != nil {
		return nil, err
	}
	return &resultFile{b: b, kind: kind, w: w, buf: bufio.NewWriterSize(w, 64<<10)}, nil
}

func (f *resultFile) add(line batch.Output) error {
	j, err := json.Marshal(line)
	if err != nil {
		return err
	}
	f.lines++
	f.bytes += int64(len(j)) + 1
	f.buf.Write(j)
	return f.buf.WriteByte('\n')
}

// commit makes the file and its row, and returns its id; a file without a line
// is dropped and has none.
func (f *resultFile) commit(ctx context.Context, bs *Batches) (string, error) {
	if f.lines == 0 {
		return "", nil
	}
	if err := f.buf.Flush(); err != nil {
		return "", err
	}
	if err := f.w.Commit(); err != nil {
		return "", err
	}
	id := batch.ResultFileID(f.b.ID, f.kind)
	return id, bs.DB.PutFile(ctx, batch.File{ID: id, TenantID: f.b.TenantID, UserID: f.b.UserID, Purpose: batch.PurposeBatchOutput,
		Filename: f.b.ID + "_" + f.kind + ".jsonl", Bytes: f.bytes, CreatedAt: time.Now().UnixMilli()})
}

// BatchFinalizeKind is the finalize step of bs's batches. Its retries also wait
// for the running lines of a stopped batch, which end within lineTimeout.
func BatchFinalizeKind(bs *Batches) Kind {
	return Kind{Type: TypeBatchFinalize, Options: append(batchOptions(), asynq.MaxRetry(25)), Handler: &FinalizeHandler{B: bs}}
}
