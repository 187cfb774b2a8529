package store

import (
	"context"
	"fmt"
)

// Buckets maps a rollup bucket name to its width in milliseconds (UTC).
var Buckets = map[string]int64{"hour": 3_600_000, "day": 86_400_000}

// GroupColumns maps a usage group_by value to its column.
var GroupColumns = map[string]string{"model": "model", "user": "user_id", "backend": "backend", "surface": "surface", "": "''"}

// Rollup folds the ledger rows past the bucket's watermark into usage_rollup and
// moves the watermark, all in one transaction. Re-running it adds nothing, so it is
// idempotent and safe to fire from several schedulers. It returns the rows folded.
func (db *DB) Rollup(ctx context.Context, bucket string) (int64, error) {
	size, ok := Buckets[bucket]
	if !ok {
		return 0, fmt.Errorf("unknown bucket %q", bucket)
	}
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var from, to int64
	if err := tx.GetContext(ctx, &from, tx.Rebind(`SELECT last_ledger_id FROM rollup_watermark WHERE bucket = ?`), bucket); err != nil {
		return 0, err
	}
	if err := tx.GetContext(ctx, &to, `SELECT COALESCE(MAX(id), 0) FROM ledger`); err != nil {
		return 0, err
	}
	if to <= from {
		return 0, nil
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO usage_rollup (bucket, tenant_id, bucket_start, model, user_id, backend, surface,
			requests, errors, prompt_tokens, completion_tokens, cached_tokens, cost_nusd, cost_neur)
		SELECT ?, tenant_id, (created_at / ?) * ?, model, user_id, backend, surface,
			COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached_tokens), SUM(cost_nusd), SUM(cost_neur)
		FROM ledger WHERE id > ? AND id <= ?
		GROUP BY 2, 3, 4, 5, 6, 7 -- tenant_id, bucket_start, model, user_id, backend, surface
		ON CONFLICT (bucket, tenant_id, bucket_start, model, user_id, backend, surface) DO UPDATE SET
			requests = usage_rollup.requests + excluded.requests, errors = usage_rollup.errors + excluded.errors,
			prompt_tokens = usage_rollup.prompt_tokens + excluded.prompt_tokens,
			completion_tokens = usage_rollup.completion_tokens + excluded.completion_tokens,
			cached_tokens = usage_rollup.cached_tokens + excluded.cached_tokens,
			cost_nusd = usage_rollup.cost_nusd + excluded.cost_nusd, cost_neur = usage_rollup.cost_neur + excluded.cost_neur`),
		bucket, size, size, from, to)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE rollup_watermark SET last_ledger_id = ? WHERE bucket = ?`), to, bucket); err != nil {
		return 0, err
	}
	return to - from, tx.Commit()
}

// UsageQuery selects a tenant's usage.
type UsageQuery struct {
	From, To int64  // unix ms; aligned down/up to the bucket
	Bucket   string // hour or day
	GroupBy  string // model, user, backend, surface or ""
}

// UsageRow is one bucket (and group) of usage.
type UsageRow struct {
	BucketStart      int64  `db:"bucket_start"`
	Group            string `db:"grp"`
	Requests         int64  `db:"requests"`
	Errors           int64  `db:"errors"`
	PromptTokens     int64  `db:"prompt_tokens"`
	CompletionTokens int64  `db:"completion_tokens"`
	CachedTokens     int64  `db:"cached_tokens"`
	CostNanoUSD      int64  `db:"cost_nusd"`
	CostNanoEUR      int64  `db:"cost_neur"`
}

// Usage answers from the rollups plus the ledger rows not yet rolled up, in one
// statement (one snapshot), so the answer is exact at any moment.
func (db *DB) Usage(ctx context.Context, tenant string, q UsageQuery) ([]UsageRow, error) {
	size, ok := Buckets[q.Bucket]
	if !ok {
		return nil, fmt.Errorf("unknown bucket %q", q.Bucket)
	}
	col, ok := GroupColumns[q.GroupBy]
	if !ok {
		return nil, fmt.Errorf("unknown group_by %q", q.GroupBy)
	}
	from := q.From / size * size
	to := (q.To + size - 1) / size * size
	query := fmt.Sprintf(`
		SELECT bucket_start, %[1]s AS grp, SUM(requests) AS requests, SUM(errors) AS errors,
			SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
			SUM(cached_tokens) AS cached_tokens, SUM(cost_nusd) AS cost_nusd, SUM(cost_neur) AS cost_neur
		FROM (
			SELECT bucket_start, model, user_id, backend, surface, requests, errors, prompt_tokens, completion_tokens,
				cached_tokens, cost_nusd, cost_neur
			FROM usage_rollup WHERE bucket = ? AND tenant_id = ? AND bucket_start >= ? AND bucket_start < ?
			UNION ALL
			SELECT (created_at / ?) * ?, model, user_id, backend, surface, 1, CASE WHEN status >= 400 THEN 1 ELSE 0 END, prompt_tokens, completion_tokens,
				cached_tokens, cost_nusd, cost_neur
			FROM ledger WHERE tenant_id = ? AND created_at >= ? AND created_at < ?
				AND id > (SELECT last_ledger_id FROM rollup_watermark WHERE bucket = ?)
		) AS u GROUP BY bucket_start, grp ORDER BY bucket_start, grp`, col)
	var rows []UsageRow
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query),
		q.Bucket, tenant, from, to, size, size, tenant, from, to, q.Bucket)
	return rows, err
}

// Watermark returns the last ledger id folded into the bucket's rollups and the
// newest ledger id, so callers can see how far the rollups lag.
func (db *DB) Watermark(ctx context.Context, bucket string) (rolled, newest int64, err error) {
	err = db.r.QueryRowxContext(ctx, db.r.Rebind(`SELECT
		(SELECT last_ledger_id FROM rollup_watermark WHERE bucket = ?), (SELECT COALESCE(MAX(id), 0) FROM ledger)`), bucket).Scan(&rolled, &newest)
	return rolled, newest, err
}
