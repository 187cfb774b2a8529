package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"spass/shared/agent"
)

// Agents defined through /a1/agents, per tenant, stored as their JSON. File agents
// are not stored: the /a1 handlers read them from the agents directory.

// SaveAgent creates or replaces the tenant's agent and reports whether it was created.
func (db *DB) SaveAgent(ctx context.Context, tenant string, a agent.Agent) (bool, error) {
	def, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT count(*) FROM agents WHERE tenant_id = ? AND name = ?`), tenant, a.Name); err != nil {
		return false, err
	}
	now := time.Now().UnixMilli()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO agents (tenant_id, name, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`),
		tenant, a.Name, string(def), now, now); err != nil {
		return false, err
	}
	return n == 0, tx.Commit()
}

// Agent returns the tenant's stored agent name.
func (db *DB) Agent(ctx context.Context, tenant, name string) (agent.Agent, bool, error) {
	var def string
	err := db.r.GetContext(ctx, &def, db.r.Rebind(`SELECT definition FROM agents WHERE tenant_id = ? AND name = ?`), tenant, name)
	if errors.Is(err, sql.ErrNoRows) {
		return agent.Agent{}, false, nil
	}
	if err != nil {
		return agent.Agent{}, false, err
	}
	var a agent.Agent
	return a, true, json.Unmarshal([]byte(def), &a)
}

// Agents lists the tenant's stored agents by name.
func (db *DB) Agents(ctx context.Context, tenant string) ([]agent.Agent, error) {
	var defs []string
	if err := db.r.SelectContext(ctx, &defs, db.r.Rebind(`SELECT definition FROM agents WHERE tenant_id = ? ORDER BY name`), tenant); err != nil {
		return nil, err
	}
	out := make([]agent.Agent, len(defs))
	for i, d := range defs {
		if err := json.Unmarshal([]byte(d), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteAgent deletes the tenant's stored agent; its sessions stay readable.
func (db *DB) DeleteAgent(ctx context.Context, tenant, name string) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`DELETE FROM agents WHERE tenant_id = ? AND name = ?`), tenant, name)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const sessionCols = `id, tenant_id, user_id, agent, overrides, segment, messages, next_seq, lease_until, created_at, updated_at`

// CreateSession stores s with its first segment, filling in its id and times.
func (db *DB) CreateSession(ctx context.Context, s *agent.Session) error {
	now := time.Now().UnixMilli()
	s.ID, s.Segment, s.NextSeq, s.CreatedAt, s.UpdatedAt = newObjectID("sess_"), 1, 1, now, now
	if len(s.Overrides) == 0 {
		s.Overrides = agent.JSON(`{}`)
	}
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO agent_sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		s.ID, s.TenantID, s.UserID, s.Agent, s.Overrides, s.Segment, 0, s.NextSeq, 0, now, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO session_segments (session_id, tenant_id, number, start_seq, created_at) VALUES (?, ?, 1, 1, ?)`),
		s.ID, s.TenantID, now); err != nil {
		return err
	}
	return tx.Commit()
}

// Session returns the tenant's session id, limited to user's own unless user is "".
func (db *DB) Session(ctx context.Context, tenant, user, id string) (agent.Session, bool, error) {
	var s agent.Session
	err := db.r.GetContext(ctx, &s, db.r.Rebind(`SELECT `+sessionCols+` FROM agent_sessions
		WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, err
}

// Sessions lists the tenant's (or user's) sessions of an agent, newest first.
func (db *DB) Sessions(ctx context.Context, tenant, user, agentName string, limit int) ([]agent.Session, error) {
	out := []agent.Session{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT `+sessionCols+` FROM agent_sessions
		WHERE tenant_id = ? AND agent = ? AND (? = '' OR user_id = ?) ORDER BY updated_at DESC, id DESC LIMIT ?`), tenant, agentName, user, user, limit)
	return out, err
}

// DeleteSession deletes the session, its messages and its segments.
func (db *DB) DeleteSession(ctx context.Context, tenant, user, id string) (bool, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM agent_sessions WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, q := range []string{`DELETE FROM session_messages WHERE tenant_id = ? AND session_id = ?`, `DELETE FROM session_segments WHERE tenant_id = ? AND session_id = ?`,
		`DELETE FROM a2a_tasks WHERE tenant_id = ? AND session_id = ?`} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), tenant, id); err != nil {
			return false, err
		}
	}
	return true, tx.Commit()
}

// LeaseSession takes the session for one turn or compaction until the given time
// (unix ms); false when another holds it.
func (db *DB) LeaseSession(ctx context.Context, tenant, id string, until int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE agent_sessions SET lease_until = ?
		WHERE tenant_id = ? AND id = ? AND lease_until < ?`), until, tenant, id, time.Now().UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseSession gives a session's lease back.
func (db *DB) ReleaseSession(ctx context.Context, tenant, id string) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE agent_sessions SET lease_until = 0 WHERE tenant_id = ? AND id = ?`), tenant, id)
	return err
}

// AddSessionMessages appends msgs (numbered after the session's last) with status.
func (db *DB) AddSessionMessages(ctx context.Context, tenant, id, turn, status string, msgs []agent.Message) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := addSessionMessages(ctx, tx, tenant, id, turn, status, msgs); err != nil {
		return err
	}
	return tx.Commit()
}

// EndSessionTurn closes a turn: with a reply the turn's pending messages become
// ok and the reply joins them; without one they are marked failed.
func (db *DB) EndSessionTurn(ctx context.Context, tenant, id, turn string, reply *agent.Message) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	status := agent.StatusFailed
	if reply != nil {
		status = agent.StatusOK
		if err := addSessionMessages(ctx, tx, tenant, id, turn, agent.StatusOK, []agent.Message{*reply}); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE session_messages SET status = ? WHERE tenant_id = ? AND session_id = ? AND turn = ? AND status = ?`),
		status, tenant, id, turn, agent.StatusPending)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	added := int64(0)
	if reply != nil {
		added = n + 1
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE agent_sessions SET messages = messages + ?, updated_at = ? WHERE tenant_id = ? AND id = ?`),
		added, time.Now().UnixMilli(), tenant, id); err != nil {
		return err
	}
	return tx.Commit()
}

func addSessionMessages(ctx context.Context, tx *sqlx.Tx, tenant, id, turn, status string, msgs []agent.Message) error {
	var next int64
	if err := tx.GetContext(ctx, &next, tx.Rebind(`SELECT next_seq FROM agent_sessions WHERE tenant_id = ? AND id = ?`), tenant, id); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for i := range msgs {
		m := &msgs[i]
		m.SessionID, m.TenantID, m.Seq, m.Turn, m.Status, m.CreatedAt = id, tenant, next, turn, status, now
		if len(m.Steps) == 0 {
			m.Steps = agent.JSON(`[]`)
		}
		next++
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO session_messages (session_id, tenant_id, seq, turn, role, body, steps, status, tokens, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, tenant, m.Seq, turn, m.Role, m.Body, m.Steps, status, m.Tokens, now); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE agent_sessions SET next_seq = ? WHERE tenant_id = ? AND id = ?`), next, tenant, id)
	return err
}

const sessionMessageCols = `session_id, tenant_id, seq, turn, role, body, steps, status, tokens, created_at`

// SessionMessages returns the session's messages with seq > after in order, at
// most limit; ok ones only when okOnly (what a turn replays).
func (db *DB) SessionMessages(ctx context.Context, tenant, id string, after int64, limit int, okOnly bool) ([]agent.Message, error) {
	out := []agent.Message{}
	q := `SELECT ` + sessionMessageCols + ` FROM session_messages WHERE tenant_id = ? AND session_id = ? AND seq > ?`
	args := []any{tenant, id, after}
	if okOnly {
		q += ` AND status = ?`
		args = append(args, agent.StatusOK)
	}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(q+` ORDER BY seq LIMIT ?`), append(args, limit)...)
	return out, err
}

// Segments returns the session's segments in order: its lineage.
func (db *DB) Segments(ctx context.Context, tenant, id string) ([]agent.Segment, error) {
	out := []agent.Segment{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(`SELECT session_id, tenant_id, number, start_seq, summary, facts, turn, created_at
		FROM session_segments WHERE tenant_id = ? AND session_id = ? ORDER BY number`), tenant, id)
	return out, err
}

// CurrentSegment returns the session's newest segment, the one its next turn
// replays: one row, however long the lineage.
func (db *DB) CurrentSegment(ctx context.Context, tenant, id string) (agent.Segment, bool, error) {
	var seg agent.Segment
	err := db.r.GetContext(ctx, &seg, db.r.Rebind(`SELECT session_id, tenant_id, number, start_seq, summary, facts, turn, created_at
		FROM session_segments WHERE tenant_id = ? AND session_id = ? ORDER BY number DESC LIMIT 1`), tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return seg, false, nil
	}
	return seg, err == nil, err
}

// OpenSegment closes the session's current segment and opens seg as the next one,
// unless another compaction got there first (the session's segment is no longer
// seg.Number-1): then it reports false and changes nothing.
func (db *DB) OpenSegment(ctx context.Context, tenant, id string, seg agent.Segment) (bool, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE agent_sessions SET segment = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND segment = ?`),
		seg.Number, time.Now().UnixMilli(), tenant, id, seg.Number-1)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if len(seg.Facts) == 0 {
		seg.Facts = agent.JSON(`[]`)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO session_segments (session_id, tenant_id, number, start_seq, summary, facts, turn, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), id, tenant, seg.Number, seg.StartSeq, seg.Summary, seg.Facts, seg.Turn, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
