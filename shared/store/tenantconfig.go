package store

import (
	"context"
	"encoding/json"
	"time"
)

// ConfigOverrides returns the tenant's DB-level config values by key.
func (db *DB) ConfigOverrides(ctx context.Context, tenant string) (map[string]json.RawMessage, error) {
	var rows []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT key, value FROM tenant_config WHERE tenant_id = ?`), tenant)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(rows))
	for _, r := range rows {
		out[r.Key] = json.RawMessage(r.Value)
	}
	return out, nil
}

// SetConfig upserts the given keys for the tenant in one transaction.
func (db *DB) SetConfig(ctx context.Context, tenant string, values map[string]json.RawMessage, by string) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	q := tx.Rebind(`INSERT INTO tenant_config (tenant_id, key, value, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`)
	for k, v := range values {
		if _, err := tx.ExecContext(ctx, q, tenant, k, string(v), now, by); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DeleteConfig removes one key of the tenant's overrides, or all of them when key
// is empty. It reports whether anything was removed.
func (db *DB) DeleteConfig(ctx context.Context, tenant, key string) (bool, error) {
	q, args := `DELETE FROM tenant_config WHERE tenant_id = ?`, []any{tenant}
	if key != "" {
		q, args = q+` AND key = ?`, append(args, key)
	}
	res, err := db.w.ExecContext(ctx, db.w.Rebind(q), args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
