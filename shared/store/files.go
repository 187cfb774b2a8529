package store

import (
	"context"
	"database/sql"
	"errors"

	"spass/shared/batch"
)

// Files: the metadata of /v1/files (the bytes are on disk, see filestore). Every
// method takes the tenant, and the user where the caller is one; user "" reads
// across the tenant's users (a tenant admin). Another tenant's or user's file is
// simply not found.

const fileCols = `id, tenant_id, user_id, purpose, filename, bytes, lines, endpoint, created_at`

// PutFile stores f's metadata. A file whose id exists is left as it is, so a
// batch's result files written again after a crash keep one row.
func (db *DB) PutFile(ctx context.Context, f batch.File) error {
	_, err := db.w.NamedExecContext(ctx, `INSERT INTO files (`+fileCols+`) VALUES (:id, :tenant_id, :user_id,
		:purpose, :filename, :bytes, :lines, :endpoint, :created_at) ON CONFLICT (id) DO NOTHING`, f)
	return err
}

// File returns the tenant's file id, limited to user's own unless user is "".
func (db *DB) File(ctx context.Context, tenant, user, id string) (batch.File, bool, error) {
	var f batch.File
	err := db.r.GetContext(ctx, &f, db.r.Rebind(`SELECT `+fileCols+` FROM files
		WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, nil
	}
	return f, err == nil, err
}

// ListQuery pages a listing: newest first (or oldest first with Ascending),
// continuing after the object with id After, at most Limit. An After that is not
// one of the caller's objects ends the listing.
type ListQuery struct {
	User      string // "" for the whole tenant
	After     string
	Limit     int
	Ascending bool
	Purpose   string // files only; "" for every purpose
}

// page returns the cursor condition and order of q over table, and their args.
func (q ListQuery) page(table, tenant string) (string, string, []any) {
	cmp, order := "<", "DESC"
	if q.Ascending {
		cmp, order = ">", "ASC"
	}
	if q.After == "" {
		return "", " ORDER BY created_at " + order + ", id " + order, nil
	}
	cond := ` AND (created_at, id) ` + cmp + ` (SELECT created_at, id FROM ` + table + ` WHERE tenant_id = ? AND id = ?)`
	return cond, " ORDER BY created_at " + order + ", id " + order, []any{tenant, q.After}
}

// Files lists the tenant's files by q.
func (db *DB) Files(ctx context.Context, tenant string, q ListQuery) ([]batch.File, error) {
	cond, order, args := q.page("files", tenant)
	out := []batch.File{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT `+fileCols+` FROM files
		WHERE tenant_id = ? AND (? = '' OR user_id = ?) AND (? = '' OR purpose = ?)`+cond+order+` LIMIT ?`),
		append(append([]any{tenant, q.User, q.User, q.Purpose, q.Purpose}, args...), q.Limit)...)
	return out, err
}

// DeleteFile removes the tenant's file id (only user's unless user is "") and
// reports whether it existed. The caller removes the bytes.
func (db *DB) DeleteFile(ctx context.Context, tenant, user, id string) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`DELETE FROM files WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`),
		tenant, id, user, user)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
