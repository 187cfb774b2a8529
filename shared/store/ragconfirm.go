package store

import (
	"context"
	"database/sql"
	"errors"

	"spass/shared/ragdoc"
)

// SaveRAGConfirmation keeps a confirmation token's digest for the tenant, and
// drops the tokens that expired before now (unix ms) on the way.
func (db *DB) SaveRAGConfirmation(ctx context.Context, tenant string, c ragdoc.Confirmation, now int64) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM rag_confirmations WHERE expires_at < ?`, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO rag_confirmations (tenant_id, digest, binding, state, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tenant, c.Digest, c.Binding, c.State, c.ExpiresAt); err != nil {
		return err
	}
	return tx.Commit()
}

// TakeRAGConfirmation removes and returns the tenant's confirmation with that
// digest and binding: a token is spent by its one use. A token bound to something
// else (another session, tool or arguments) stays, and elsewhere reports that it
// exists, so the caller can say why it was refused.
func (db *DB) TakeRAGConfirmation(ctx context.Context, tenant, digest, binding string) (c ragdoc.Confirmation, taken, elsewhere bool, err error) {
	err = db.w.GetContext(ctx, &c, `DELETE FROM rag_confirmations WHERE tenant_id = ? AND digest = ? AND binding = ?
		RETURNING digest, binding, state, expires_at`, tenant, digest, binding)
	if err == nil {
		return c, true, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, false, false, err
	}
	var n int
	err = db.w.GetContext(ctx, &n, `SELECT COUNT(*) FROM rag_confirmations WHERE tenant_id = ? AND digest = ?`, tenant, digest)
	return c, false, n > 0, err
}
