package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
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
	return insertJobResult(ctx, db.w, &r)
}

// insertJobResult is SaveJobResult on the writer or within a transaction.
func insertJobResult(ctx context.Context, e sqlx.ExtContext, r *JobResult) (bool, error) {
	if r.CreatedAt == 0 {
		r.CreatedAt = time.Now().UnixMilli()
	}
	res, err := sqlx.NamedExecContext(ctx, e, `INSERT INTO job_results (tenant_id, ref, key, request_id, status, body, created_at)
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

// JobResultKeys returns the keys of the tenant's results within ref: the lines
// of a batch that have run.
func (db *DB) JobResultKeys(ctx context.Context, tenant, ref string) (map[string]bool, error) {
	rows, err := db.r.QueryContext(ctx, db.r.Rebind(`SELECT key FROM job_results WHERE tenant_id = ? AND ref = ?`), tenant, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys[k] = true
	}
	return keys, rows.Err()
}

// EachJobResult calls fn with each of the tenant's results within ref, in the
// order they were stored, reading them one at a time: a batch's results are
// written to its files without holding them all in memory.
func (db *DB) EachJobResult(ctx context.Context, tenant, ref string, fn func(JobResult) error) error {
	rows, err := db.r.QueryxContext(ctx, db.r.Rebind(`SELECT * FROM job_results WHERE tenant_id = ? AND ref = ? ORDER BY created_at, key`), tenant, ref)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r JobResult
		if err := rows.StructScan(&r); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
