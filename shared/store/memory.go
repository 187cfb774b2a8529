package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"spass/shared/memory"
	"strings"
	"time"
)

// Memory entries are memory.Entry: the memory tools own the shape (the consumer
// defines the interface, tools.MemoryStore, and its types), so the tools package
// never imports the store; *DB implements that interface here.

type memoryRow struct {
	ID        string `db:"id"`
	Scope     string `db:"scope"`
	Owner     string `db:"owner"`
	Key       string `db:"key"`
	Content   string `db:"content"`
	Tags      string `db:"tags"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

const memoryColumns = `id, scope, owner, key, content, tags, created_at, updated_at`

func (r memoryRow) entry() memory.Entry {
	e := memory.Entry{ID: r.ID, Scope: r.Scope, Owner: r.Owner, Key: r.Key, Content: r.Content,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Tags: []string{}}
	json.Unmarshal([]byte(r.Tags), &e.Tags) // written by this package; a bad value reads as no tags
	return e
}

// memorySearch is what text search matches: key and content, lowered by Go so that
// non-ASCII letters fold too (SQLite's lower() only folds ASCII).
func memorySearch(key, content string) string { return strings.ToLower(key + "\n" + content) }

// newObjectID returns prefix + 24 random hex digits: ids clients see, unguessable so
// they reveal nothing about other tenants' objects.
func newObjectID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// SaveMemory upserts e by (tenant, scope, owner, key). An empty key becomes the new
// id; nil tags keep the stored tags of an existing entry. It reports whether the
// entry was created.
func (db *DB) SaveMemory(ctx context.Context, tenant string, e memory.Entry) (memory.Entry, bool, error) {
	id := newObjectID("mem_")
	if e.Key == "" {
		e.Key = id
	}
	tagList := e.Tags
	if tagList == nil {
		tagList = []string{}
	}
	tags, err := json.Marshal(tagList)
	if err != nil {
		return e, false, err
	}
	now := time.Now().UnixMilli()
	var row memoryRow
	err = db.w.GetContext(ctx, &row, db.w.Rebind(`INSERT INTO memory (id, tenant_id, scope, owner, key, content, tags, search, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, scope, owner, key) DO UPDATE SET content = excluded.content, search = excluded.search,
			tags = CASE WHEN ? = 1 THEN excluded.tags ELSE memory.tags END, updated_at = excluded.updated_at
		RETURNING `+memoryColumns),
		id, tenant, e.Scope, e.Owner, e.Key, e.Content, string(tags), memorySearch(e.Key, e.Content), now, now, e.Tags != nil)
	if err != nil {
		return e, false, err
	}
	return row.entry(), row.ID == id, nil
}

// GetMemory returns the tenant's entry id.
func (db *DB) GetMemory(ctx context.Context, tenant, id string) (memory.Entry, bool, error) {
	var row memoryRow
	err := db.r.GetContext(ctx, &row, db.r.Rebind(`SELECT `+memoryColumns+` FROM memory WHERE tenant_id = ? AND id = ?`), tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return memory.Entry{}, false, nil
	}
	return row.entry(), err == nil, err
}

// FindMemory returns the tenant's entries in q's places, newest first. No places
// selects nothing: a caller must say what it may read.
func (db *DB) FindMemory(ctx context.Context, tenant string, q memory.Query) ([]memory.Entry, error) {
	if len(q.Places) == 0 {
		return []memory.Entry{}, nil
	}
	where, args := placesClause(tenant, q.Places)
	if q.Text != "" {
		where += ` AND search LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscaper.Replace(strings.ToLower(q.Text))+"%")
	}
	if q.Key != "" {
		where += ` AND key = ?`
		args = append(args, q.Key)
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var rows []memoryRow
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT `+memoryColumns+` FROM memory WHERE `+where+
		` ORDER BY updated_at DESC, id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	out := make([]memory.Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// placesClause is the WHERE clause selecting the tenant's entries in places.
func placesClause(tenant string, places []memory.Place) (string, []any) {
	var ors []string
	args := []any{tenant}
	for _, p := range places {
		if p.AnyOwner {
			ors, args = append(ors, `scope = ?`), append(args, p.Scope)
		} else {
			ors, args = append(ors, `(scope = ? AND owner = ?)`), append(args, p.Scope, p.Owner)
		}
	}
	return `tenant_id = ? AND (` + strings.Join(ors, ` OR `) + `)`, args
}

// UpdateMemory changes the content and/or tags (nil leaves them) of the tenant's
// entry id and reports whether it exists.
func (db *DB) UpdateMemory(ctx context.Context, tenant, id string, content *string, tags []string) (memory.Entry, bool, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return memory.Entry{}, false, err
	}
	defer tx.Rollback()
	var row memoryRow
	err = tx.GetContext(ctx, &row, tx.Rebind(`SELECT `+memoryColumns+` FROM memory WHERE tenant_id = ? AND id = ?`), tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return memory.Entry{}, false, nil
	} else if err != nil {
		return memory.Entry{}, false, err
	}
	if content != nil {
		row.Content = *content
	}
	if tags != nil {
		b, _ := json.Marshal(tags)
		row.Tags = string(b)
	}
	row.UpdatedAt = time.Now().UnixMilli()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE memory SET content = ?, tags = ?, search = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`),
		row.Content, row.Tags, memorySearch(row.Key, row.Content), row.UpdatedAt, tenant, id); err != nil {
		return memory.Entry{}, false, err
	}
	return row.entry(), true, tx.Commit()
}

// DeleteMemory removes the tenant's entry id and reports whether it existed.
func (db *DB) DeleteMemory(ctx context.Context, tenant, id string) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`DELETE FROM memory WHERE tenant_id = ? AND id = ?`), tenant, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// SummarizeMemory counts the entries of each place and lists its newest keys (at
// most keys). A place with one owner is always reported, even when empty; an
// AnyOwner place is reported once per owner that has entries.
func (db *DB) SummarizeMemory(ctx context.Context, tenant string, places []memory.Place, keys int) ([]memory.Summary, error) {
	var out []memory.Summary
	for _, p := range places {
		q, args := `SELECT owner, count(*) AS n FROM memory WHERE tenant_id = ? AND scope = ?`, []any{tenant, p.Scope}
		if !p.AnyOwner {
			q, args = q+` AND owner = ?`, append(args, p.Owner)
		}
		var counts []struct {
			Owner string `db:"owner"`
			N     int    `db:"n"`
		}
		if err := db.r.SelectContext(ctx, &counts, db.r.Rebind(q+` GROUP BY owner ORDER BY owner`), args...); err != nil {
			return nil, err
		}
		if len(counts) == 0 && !p.AnyOwner {
			out = append(out, memory.Summary{Place: p, Keys: []string{}})
		}
		for _, c := range counts {
			s := memory.Summary{Place: memory.Place{Scope: p.Scope, Owner: c.Owner}, Count: c.N, Keys: []string{}}
			if err := db.r.SelectContext(ctx, &s.Keys, db.r.Rebind(`SELECT key FROM memory WHERE tenant_id = ? AND scope = ? AND owner = ?
				ORDER BY updated_at DESC, id DESC LIMIT ?`), tenant, p.Scope, c.Owner, keys); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}
