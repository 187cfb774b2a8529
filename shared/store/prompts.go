package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"time"
)

// MaxPromptBytes bounds a system prompt: generous for instructions, small enough
// that prepending one cannot crowd out a model's context by itself.
const MaxPromptBytes = 32 << 10

// PromptName is the form of a system prompt's name: a slug that is safe in a URL
// path and in the SPASS-System-Prompt header.
var PromptName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// SystemPrompt is a named system prompt. Owner is "" for the tenant's prompts and
// the end user's id for a user's own. Times are unix milliseconds.
type SystemPrompt struct {
	TenantID  string `db:"tenant_id"`
	Owner     string `db:"owner"`
	Name      string `db:"name"`
	Content   string `db:"content"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
	UpdatedBy string `db:"updated_by"`
}

// SaveSystemPrompt creates or replaces the tenant's prompt (owner, name) and
// reports whether it was created.
func (db *DB) SaveSystemPrompt(ctx context.Context, tenant, owner, name, content, by string) (SystemPrompt, bool, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return SystemPrompt{}, false, err
	}
	defer tx.Rollback()
	var existing int
	if err := tx.GetContext(ctx, &existing, tx.Rebind(`SELECT count(*) FROM system_prompts WHERE tenant_id = ? AND owner = ? AND name = ?`),
		tenant, owner, name); err != nil {
		return SystemPrompt{}, false, err
	}
	now := time.Now().UnixMilli()
	var sp SystemPrompt
	err = tx.GetContext(ctx, &sp, tx.Rebind(`INSERT INTO system_prompts (tenant_id, owner, name, content, created_at, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, owner, name) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at, updated_by = excluded.updated_by
		RETURNING *`), tenant, owner, name, content, now, now, by)
	if err != nil {
		return SystemPrompt{}, false, err
	}
	return sp, existing == 0, tx.Commit()
}

// UpdateSystemPrompt replaces the content of an existing prompt and reports
// whether it exists.
func (db *DB) UpdateSystemPrompt(ctx context.Context, tenant, owner, name, content, by string) (SystemPrompt, bool, error) {
	var sp SystemPrompt
	err := db.w.GetContext(ctx, &sp, db.w.Rebind(`UPDATE system_prompts SET content = ?, updated_at = ?, updated_by = ?
		WHERE tenant_id = ? AND owner = ? AND name = ? RETURNING *`), content, time.Now().UnixMilli(), by, tenant, owner, name)
	if errors.Is(err, sql.ErrNoRows) {
		return SystemPrompt{}, false, nil
	}
	return sp, err == nil, err
}

// SystemPromptByName returns the tenant's prompt (owner, name).
func (db *DB) SystemPromptByName(ctx context.Context, tenant, owner, name string) (SystemPrompt, bool, error) {
	var sp SystemPrompt
	err := db.r.GetContext(ctx, &sp, db.r.Rebind(`SELECT * FROM system_prompts WHERE tenant_id = ? AND owner = ? AND name = ?`), tenant, owner, name)
	if errors.Is(err, sql.ErrNoRows) {
		return SystemPrompt{}, false, nil
	}
	return sp, err == nil, err
}

// SystemPrompts lists the tenant's own prompts and, when user is not empty, that
// user's, sorted by name with the tenant's first on a tie.
func (db *DB) SystemPrompts(ctx context.Context, tenant, user string) ([]SystemPrompt, error) {
	out := []SystemPrompt{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT * FROM system_prompts WHERE tenant_id = ? AND (owner = '' OR owner = ?)
		ORDER BY name, owner`), tenant, user)
	return out, err
}

// DeleteSystemPrompt removes the tenant's prompt (owner, name) and reports whether
// it existed.
func (db *DB) DeleteSystemPrompt(ctx context.Context, tenant, owner, name string) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`DELETE FROM system_prompts WHERE tenant_id = ? AND owner = ? AND name = ?`), tenant, owner, name)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ResolveSystemPrompt returns the content of the prompt a chat request names: the
// user's own prompt of that name wins over the tenant's, so a user can shadow a
// shared prompt without changing it for everyone. ok is false when neither exists.
func (db *DB) ResolveSystemPrompt(ctx context.Context, tenant, user, name string) (string, bool, error) {
	var content []string
	err := db.r.SelectContext(ctx, &content, db.r.Rebind(`SELECT content FROM system_prompts
		WHERE tenant_id = ? AND name = ? AND (owner = '' OR owner = ?) ORDER BY owner = '' LIMIT 1`), tenant, name, user)
	if err != nil || len(content) == 0 {
		return "", false, err
	}
	return content[0], true, nil
}
