package store

import (
	"context"
	"database/sql"
	"errors"

	"spass/shared/response"
)

const responseCols = `id, tenant_id, user_id, previous_id, model, status, input, body, created_at`

// SaveResponse stores r (its id chosen by the caller, who streamed it already).
func (db *DB) SaveResponse(ctx context.Context, r response.Response) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO responses (`+responseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, r.TenantID, r.UserID, r.PreviousID, r.Model, r.Status, string(r.Input), string(r.Body), r.CreatedAt)
	return err
}

// Response returns the user's stored response id in the tenant. Another user's
// or tenant's id reads as missing.
func (db *DB) Response(ctx context.Context, tenant, user, id string) (response.Response, bool, error) {
	var r response.Response
	var input, body string
	err := db.r.QueryRowxContext(ctx, db.r.Rebind(`SELECT `+responseCols+` FROM responses WHERE tenant_id = ? AND user_id = ? AND id = ?`), tenant, user, id).
		Scan(&r.ID, &r.TenantID, &r.UserID, &r.PreviousID, &r.Model, &r.Status, &input, &body, &r.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return response.Response{}, false, nil
	}
	if err != nil {
		return response.Response{}, false, err
	}
	r.Input, r.Body = []byte(input), []byte(body)
	return r, true, nil
}

// DeleteResponse removes the user's stored response id and reports whether it
// existed. Responses that continued from it keep their own items.
func (db *DB) DeleteResponse(ctx context.Context, tenant, user, id string) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`DELETE FROM responses WHERE tenant_id = ? AND user_id = ? AND id = ?`), tenant, user, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
