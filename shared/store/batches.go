package store

import (
	"context"
	"database/sql"
	"errors"

	"spass/shared/batch"
)

// Batches: every method takes the tenant, and the user where the caller is one
// (user "" reads across the tenant's users). Status changes are conditional
// updates on the single writer, so a cancel and a line's claim, or two
// finalizers, never interleave: each transition happens once.

const batchCols = `id, tenant_id, user_id, role, token, endpoint, input_file_id, completion_window, metadata, status,
	ending, errors, total, completed, failed, running, prompt_tokens, completion_tokens, output_file_id, error_file_id,
	created_at, expires_at, in_progress_at, finalizing_at, completed_at, failed_at, expired_at, cancelling_at, cancelled_at, progress_at`

// CreateBatch stores b as it is (id, status and times filled in by the caller).
func (db *DB) CreateBatch(ctx context.Context, b batch.Batch) error {
	_, err := db.w.NamedExecContext(ctx, `INSERT INTO batches (`+batchCols+`) VALUES (:id, :tenant_id, :user_id, :role, :token,
		:endpoint, :input_file_id, :completion_window, :metadata, :status, :ending, :errors, :total, :completed, :failed,
		:running, :prompt_tokens, :completion_tokens, :output_file_id, :error_file_id, :created_at, :expires_at,
		:in_progress_at, :finalizing_at, :completed_at, :failed_at, :expired_at, :cancelling_at, :cancelled_at, :progress_at)`, b)
	return err
}

// DeleteBatch removes the tenant's batch id, for a create whose dispatch could
// not be enqueued.
func (db *DB) DeleteBatch(ctx context.Context, tenant, id string) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`DELETE FROM batches WHERE tenant_id = ? AND id = ?`), tenant, id)
	return err
}

// Batch returns the tenant's batch id, limited to user's own unless user is "".
func (db *DB) Batch(ctx context.Context, tenant, user, id string) (batch.Batch, bool, error) {
	var b batch.Batch
	err := db.r.GetContext(ctx, &b, db.r.Rebind(`SELECT `+batchCols+` FROM batches
		WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if errors.Is(err, sql.ErrNoRows) {
		return b, false, nil
	}
	return b, err == nil, err
}

// Batches lists the tenant's batches by q (Purpose unused).
func (db *DB) Batches(ctx context.Context, tenant string, q ListQuery) ([]batch.Batch, error) {
	cond, order, args := q.page("batches", tenant)
	out := []batch.Batch{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT `+batchCols+` FROM batches
		WHERE tenant_id = ? AND (? = '' OR user_id = ?)`+cond+order+` LIMIT ?`),
		append(append([]any{tenant, q.User, q.User}, args...), q.Limit)...)
	return out, err
}

// OpenBatches lists every tenant's batches that still have work to do, for the
// sweep, a system job that acts on each batch as its tenant.
func (db *DB) OpenBatches(ctx context.Context) ([]batch.Batch, error) {
	out := []batch.Batch{}
	err := db.r.SelectContext(ctx, &out, `SELECT `+batchCols+` FROM batches
		WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') ORDER BY created_at, id`)
	return out, err
}

// transition runs an UPDATE of the tenant's batch id and reports whether it
// changed the row (its WHERE holds the status the change starts from).
func (db *DB) transition(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(query), args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// StartBatch moves a validating batch to in_progress.
func (db *DB) StartBatch(ctx context.Context, tenant, id string, now int64) (bool, error) {
	return db.transition(ctx, `UPDATE batches SET status = 'in_progress', in_progress_at = ?, progress_at = ?
		WHERE tenant_id = ? AND id = ? AND status = 'validating'`, now, now, tenant, id)
}

// FailBatch moves a validating batch to failed with errs, the JSON of OpenAI's
// errors list.
func (db *DB) FailBatch(ctx context.Context, tenant, id, errs string, now int64) (bool, error) {
	return db.transition(ctx, `UPDATE batches SET status = 'failed', errors = ?, failed_at = ?
		WHERE tenant_id = ? AND id = ? AND status = 'validating'`, errs, now, tenant, id)
}

// CancelBatch moves the tenant's (or user's) validating or in_progress batch to
// cancelling. It reports whether the batch exists and whether it was moved.
func (db *DB) CancelBatch(ctx context.Context, tenant, user, id string, now int64) (found, moved bool, err error) {
	moved, err = db.transition(ctx, `UPDATE batches SET status = 'cancelling', ending = 'cancelled', cancelling_at = ?
		WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?) AND status IN ('validating', 'in_progress')`, now, tenant, id, user, user)
	if err != nil || moved {
		return moved, moved, err
	}
	_, found, err = db.Batch(ctx, tenant, user, id)
	return found, false, err
}

// ExpireBatch moves a validating or in_progress batch whose window ended to
// finalizing, ending expired.
func (db *DB) ExpireBatch(ctx context.Context, tenant, id string, now int64) (bool, error) {
	return db.transition(ctx, `UPDATE batches SET status = 'finalizing', ending = 'expired', finalizing_at = ?
		WHERE tenant_id = ? AND id = ? AND status IN ('validating', 'in_progress')`, now, tenant, id)
}

// ClaimBatchLine counts a line of the batch as running, if the batch is in
// progress; a line whose claim fails must not run.
func (db *DB) ClaimBatchLine(ctx context.Context, tenant, id string) (bool, error) {
	return db.transition(ctx, `UPDATE batches SET running = running + 1
		WHERE tenant_id = ? AND id = ? AND status = 'in_progress'`, tenant, id)
}

// ReleaseBatchLine counts a claimed line as no longer running, without a result
// (it will be retried).
func (db *DB) ReleaseBatchLine(ctx context.Context, tenant, id string) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE batches SET running = CASE WHEN running > 0 THEN running - 1 ELSE 0 END WHERE tenant_id = ? AND id = ?`), tenant, id)
	return err
}

// SaveBatchResult stores r, the result of a claimed line of batch r.Ref, unless
// the line has one, and releases the claim, in one transaction: the counts
// always match the stored results. The result that completes the batch moves it
// to finalizing; finalizing reports that this call did.
func (db *DB) SaveBatchResult(ctx context.Context, r JobResult, prompt, completion int64) (stored, finalizing bool, err error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, false, err
	}
	defer tx.Rollback()
	stored, err = insertJobResult(ctx, tx, &r)
	if err != nil {
		return false, false, err
	}
	ok, bad := 0, 0
	if !stored {
		prompt, completion = 0, 0
	} else if r.Status == 200 {
		ok = 1
	} else {
		bad = 1
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE batches SET running = CASE WHEN running > 0 THEN running - 1 ELSE 0 END, completed = completed + ?,
		failed = failed + ?, prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?, progress_at = ?
		WHERE tenant_id = ? AND id = ?`), ok, bad, prompt, completion, r.CreatedAt, r.TenantID, r.Ref); err != nil {
		return false, false, err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE batches SET status = 'finalizing', ending = 'completed', finalizing_at = ?
		WHERE tenant_id = ? AND id = ? AND status = 'in_progress' AND completed + failed >= total`), r.CreatedAt, r.TenantID, r.Ref)
	if err != nil {
		return false, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, false, err
	}
	return stored, n == 1, tx.Commit()
}

// BatchFinish is what a finalized batch ends with.
type BatchFinish struct {
	OutputFileID, ErrorFileID string
	At                        int64
}

// FinishBatch moves a finalizing or cancelling batch to its ending status with
// its result files; it reports whether this call did.
func (db *DB) FinishBatch(ctx context.Context, tenant, id string, f BatchFinish) (bool, error) {
	return db.transition(ctx, `UPDATE batches SET status = ending, output_file_id = ?, error_file_id = ?,
		completed_at = CASE ending WHEN 'completed' THEN ? ELSE completed_at END,
		cancelled_at = CASE ending WHEN 'cancelled' THEN ? ELSE cancelled_at END,
		expired_at = CASE ending WHEN 'expired' THEN ? ELSE expired_at END
		WHERE tenant_id = ? AND id = ? AND status IN ('finalizing', 'cancelling')`,
		f.OutputFileID, f.ErrorFileID, f.At, f.At, f.At, tenant, id)
}

// FileInUse reports whether the tenant's file id is the input of a batch that
// has not finished: its lines are read until then.
func (db *DB) FileInUse(ctx context.Context, tenant, id string) (bool, error) {
	var n int
	err := db.r.GetContext(ctx, &n, db.r.Rebind(`SELECT COUNT(*) FROM batches WHERE tenant_id = ? AND input_file_id = ?
		AND status IN ('validating', 'in_progress', 'finalizing', 'cancelling')`), tenant, id)
	return n > 0, err
}
