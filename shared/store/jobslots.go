package store

import (
	"context"
	"time"
)

// jobSlotKeep is how long a claim is kept: longer than the longest period (a day).
const jobSlotKeep = 48 * time.Hour

// ClaimJobSlot claims a periodic task's id (its name and period) for this host
// and reports whether this call got it: the first of several hosts firing the
// same period does, the others skip it. Old claims are pruned on the way.
func (db *DB) ClaimJobSlot(ctx context.Context, taskID string, now time.Time) (bool, error) {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM job_slots WHERE claimed_at < ?`, now.Add(-jobSlotKeep).UnixMilli()); err != nil {
		return false, err
	}
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO job_slots (task_id, claimed_at) VALUES (?, ?)
		ON CONFLICT (task_id) DO NOTHING`), taskID, now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
