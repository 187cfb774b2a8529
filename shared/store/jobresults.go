package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// JobResult is the one outcome of an inference job: the answer's JSON with status
// 200, or an OpenAI-shaped error body with its status.
type JobResult struct {
	TenantID  string `db:"tenant_id"`
	Ref       string `db:"ref"`
	Key       string `db:"key"`
	RequestID string `db:"request_id"`
	Status    int    `db:"status"`
	Body      []byte `db:"body"`
	CreatedAt int64  `db:"created_at"` // unix ms
}

// SaveJobResult stores r unless a result for its key exists; it reports whether
// r was stored.
func (db *DB) SaveJobResult(ctx context.Context, r JobResult) (bool, error) {
	if r.CreatedAt == 0 {
		r.CreatedAt = time.Now().UnixMilli()
	}
	res, err := db.w.NamedExecContext(ctx, `INSERT INTO job_results (tenant_id, ref, key, request_id, status, body, created_at)
		VALUES (:tenant_id, :ref, :key, :request_id, :status, :body, :created_at) ON CONFLICT DO NOTHING`, r)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// JobResult returns the result stored for the tenant's key within ref.
func (db *DB) JobResult(ctx context.Context, tenant, ref, key string) (JobResult, bool, error) {
	var r JobResult
	err := db.r.GetContext(ctx, &r, db.r.Rebind(`SELECT * FROM job_results WHERE tenant_id = ? AND ref = ? AND key = ?`), tenant, ref, key)
	if errors.Is(err, sql.ErrNoRows) {
		return JobResult{}, false, nil
	}
	return r, err == nil, err
}

// JobResults returns the tenant's results within ref, oldest first.
func (db *DB) JobResults(ctx context.Context, tenant, ref string) ([]JobResult, error) {
	rows := []JobResult{}
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT * FROM job_results WHERE tenant_id = ? AND ref = ? ORDER BY created_at, key`), tenant, ref)
	return rows, err
}
