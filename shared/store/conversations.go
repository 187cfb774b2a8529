package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"spass/shared/conversation"

	"github.com/jmoiron/sqlx"
)

// Conversations: every method takes the tenant, and the user where the caller is
// one; user "" reads across the tenant's users (a tenant admin). A conversation of
// another tenant or user is simply not found.

const conversationCols = `id, tenant_id, user_id, title, metadata, model, provider, system_prompt, messages, next_seq, lease_until, created_at, updated_at`

// CreateConversation stores c, filling in its id and times.
func (db *DB) CreateConversation(ctx context.Context, c *conversation.Conversation) error {
	now := time.Now().UnixMilli()
	c.ID, c.CreatedAt, c.UpdatedAt, c.NextSeq = newObjectID("conv_"), now, now, 1
	if len(c.Metadata) == 0 {
		c.Metadata = json.RawMessage(`{}`)
	}
	_, err := db.w.NamedExecContext(ctx, `INSERT INTO conversations (`+conversationCols+`) VALUES (:id, :tenant_id, :user_id,
		:title, :metadata, :model, :provider, :system_prompt, :messages, :next_seq, :lease_until, :created_at, :updated_at)`, c)
	return err
}

// Conversation returns the tenant's conversation id, limited to user's own unless
// user is "".
func (db *DB) Conversation(ctx context.Context, tenant, user, id string) (conversation.Conversation, bool, error) {
	var c conversation.Conversation
	err := db.r.GetContext(ctx, &c, db.r.Rebind(`SELECT `+conversationCols+` FROM conversations
		WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// ConversationPage is where a listing continues: after the conversation updated
// at UpdatedAt with id ID, newest first. The zero page starts at the newest.
type ConversationPage struct {
	UpdatedAt int64
	ID        string
}

// Conversations lists the tenant's (or user's) conversations, newest first, after
// page, at most limit.
func (db *DB) Conversations(ctx context.Context, tenant, user string, page ConversationPage, limit int) ([]conversation.Conversation, error) {
	out := []conversation.Conversation{}
	from := page.UpdatedAt
	if page.ID == "" {
		from = 1 << 62
	}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT `+conversationCols+` FROM conversations
		WHERE tenant_id = ? AND (? = '' OR user_id = ?) AND (updated_at < ? OR (updated_at = ? AND id < ?))
		ORDER BY updated_at DESC, id DESC LIMIT ?`), tenant, user, user, from, from, page.ID, limit)
	return out, err
}

// UpdateConversation sets the title and/or metadata (nil leaves them) and reports
// whether the conversation exists.
func (db *DB) UpdateConversation(ctx context.Context, tenant, user, id string, title *string, metadata json.RawMessage) (conversation.Conversation, bool, error) {
	c, ok, err := db.Conversation(ctx, tenant, user, id)
	if err != nil || !ok {
		return c, ok, err
	}
	if title != nil {
		c.Title = *title
	}
	if metadata != nil {
		c.Metadata = metadata
	}
	c.UpdatedAt = time.Now().UnixMilli()
	_, err = db.w.ExecContext(ctx, db.w.Rebind(`UPDATE conversations SET title = ?, metadata = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`), c.Title, c.Metadata, c.UpdatedAt, tenant, id)
	return c, err == nil, err
}

// DeleteConversation deletes the conversation and its messages.
func (db *DB) DeleteConversation(ctx context.Context, tenant, user, id string) (bool, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM conversations WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM conversation_messages WHERE tenant_id = ? AND conversation_id = ?`), tenant, id); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// LeaseConversation takes the conversation for one turn until the given time
// (unix ms); it reports false when another turn holds it.
func (db *DB) LeaseConversation(ctx context.Context, tenant, id string, until int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE conversations SET lease_until = ?
		WHERE tenant_id = ? AND id = ? AND lease_until < ?`), until, tenant, id, time.Now().UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// BeginTurn stores a turn's new messages (the user message, tool results) as
// pending, numbered after the conversation's last, before the model is called.
func (db *DB) BeginTurn(ctx context.Context, tenant, id, turn string, msgs []conversation.Message) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := addMessages(ctx, tx, tenant, id, turn, conversation.StatusPending, msgs); err != nil {
		return err
	}
	return tx.Commit()
}

// EndTurn closes a turn and releases the conversation. A turn that succeeded keeps
// its messages and adds the reply, and the conversation remembers the model and
// provider; a failed one marks its messages failed, so no later turn sends them.
func (db *DB) EndTurn(ctx context.Context, tenant, id, turn string, reply *conversation.Message, model, provider string) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	status := conversation.StatusFailed
	if reply != nil {
		status = conversation.StatusOK
		if err := addMessages(ctx, tx, tenant, id, turn, conversation.StatusOK, []conversation.Message{*reply}); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE conversation_messages SET status = ?
		WHERE tenant_id = ? AND conversation_id = ? AND turn = ? AND status = ?`), status, tenant, id, turn, conversation.StatusPending)
	if err != nil {
		return err
	}
	added, _ := res.RowsAffected()
	now := time.Now().UnixMilli()
	if reply != nil {
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE conversations SET messages = messages + ?, model = ?, provider = ?,
			updated_at = ?, lease_until = 0 WHERE tenant_id = ? AND id = ?`), added+1, model, provider, now, tenant, id)
	} else {
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE conversations SET updated_at = ?, lease_until = 0 WHERE tenant_id = ? AND id = ?`), now, tenant, id)
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// addMessages numbers msgs after the conversation's last message and inserts them.
func addMessages(ctx context.Context, tx *sqlx.Tx, tenant, id, turn, status string, msgs []conversation.Message) error {
	var next int64
	if err := tx.GetContext(ctx, &next, tx.Rebind(`SELECT next_seq FROM conversations WHERE tenant_id = ? AND id = ?`), tenant, id); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for i := range msgs {
		m := &msgs[i]
		m.ConversationID, m.TenantID, m.Seq, m.Turn, m.Status, m.CreatedAt = id, tenant, next, turn, status, now
		next++
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO conversation_messages (conversation_id, tenant_id, seq, turn, role, body, status, tokens, created_at)
			VALUES (:conversation_id, :tenant_id, :seq, :turn, :role, :body, :status, :tokens, :created_at)`, m); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE conversations SET next_seq = ? WHERE tenant_id = ? AND id = ?`), next, tenant, id)
	return err
}

// RecentMessages returns the newest ok messages whose tokens fit in budget, oldest
// first, and how many ok messages it left out. It walks the sizes alone, newest
// first, and stops at the first message that does not fit; then it reads the
// bodies from there on. A turn on a long conversation so reads what the window
// takes (and one size more), never the whole conversation nor a fixed page of
// bodies. No other turn adds or changes ok messages between the two reads: the
// caller holds the conversation's lease.
func (db *DB) RecentMessages(ctx context.Context, tenant, id string, budget, total int) ([]conversation.Message, int, error) {
	from, n, err := db.windowStart(ctx, tenant, id, budget)
	if err != nil || n == 0 {
		return nil, max(total, 0), err
	}
	kept := make([]conversation.Message, 0, n)
	err = db.r.SelectContext(ctx, &kept, db.r.Rebind(`SELECT conversation_id, tenant_id, seq, turn, role, body, status, tokens, created_at
		FROM conversation_messages WHERE tenant_id = ? AND conversation_id = ? AND status = ? AND seq >= ?
		ORDER BY seq LIMIT ?`), tenant, id, conversation.StatusOK, from, n)
	if err != nil {
		return nil, 0, err
	}
	return kept, max(total-len(kept), 0), nil
}

// windowStart finds where the history that fits in budget begins: the seq of its
// oldest message and how many messages it holds (0 when not even the newest fits).
func (db *DB) windowStart(ctx context.Context, tenant, id string, budget int) (from int64, n int, err error) {
	rows, err := db.r.QueryContext(ctx, db.r.Rebind(`SELECT seq, tokens FROM conversation_messages
		WHERE tenant_id = ? AND conversation_id = ? AND status = ? ORDER BY seq DESC`), tenant, id, conversation.StatusOK)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	used := 0
	for rows.Next() {
		var seq int64
		var tokens int
		if err := rows.Scan(&seq, &tokens); err != nil {
			return 0, 0, err
		}
		if used+tokens > budget {
			break
		}
		used, from, n = used+tokens, seq, n+1
	}
	return from, n, rows.Err()
}

// ConversationMessages returns a page of the conversation's messages in order,
// after seq, at most limit; every status, so a reader sees failed turns too.
func (db *DB) ConversationMessages(ctx context.Context, tenant, id string, after int64, limit int) ([]conversation.Message, error) {
	out := []conversation.Message{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT conversation_id, tenant_id, seq, turn, role, body, status, tokens, created_at
		FROM conversation_messages WHERE tenant_id = ? AND conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`), tenant, id, after, limit)
	return out, err
}

// SetConversationSettings changes what a turn may change besides messages: the
// system prompt, and the metadata when metadata is not nil.
func (db *DB) SetConversationSettings(ctx context.Context, tenant, id, systemPrompt string, metadata json.RawMessage) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE conversations SET system_prompt = ?, metadata = COALESCE(?, metadata)
		WHERE tenant_id = ? AND id = ?`), systemPrompt, nullJSON(metadata), tenant, id)
	return err
}

// nullJSON is nil (SQL NULL) for absent JSON, else its bytes: bound as bytes like
// every other write of metadata, since SQLite hands a value bound as a string back
// as a string, which does not scan into json.RawMessage.
func nullJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return []byte(b)
}
