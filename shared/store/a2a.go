package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"spass/shared/agent"
)

// A2A tasks (agent.Task): one row per task, found by tenant, user and id.

const taskCols = `id, tenant_id, user_id, agent, session_id, turn, state, message, reply, error, created_at, updated_at`

// CreateTask stores a new task, giving it its id and times.
func (db *DB) CreateTask(ctx context.Context, t *agent.Task) error {
	now := time.Now().UnixMilli()
	t.ID, t.CreatedAt, t.UpdatedAt = newObjectID("task_"), now, now
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO a2a_tasks (`+taskCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.TenantID, t.UserID, t.Agent, t.SessionID, t.Turn, t.State, t.Message, t.Reply, t.Error, now, now)
	return err
}

// Task returns the tenant's task id, limited to user's own unless user is "".
func (db *DB) Task(ctx context.Context, tenant, user, id string) (agent.Task, bool, error) {
	var t agent.Task
	err := db.r.GetContext(ctx, &t, db.r.Rebind(`SELECT `+taskCols+` FROM a2a_tasks
		WHERE tenant_id = ? AND id = ? AND (? = '' OR user_id = ?)`), tenant, id, user, user)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	return t, err == nil, err
}

// EndTask moves a task that is not over yet to state, with the agent's reply or
// the error code, and reports whether it did: a task canceled meanwhile stays
// canceled.
func (db *DB) EndTask(ctx context.Context, tenant, id, state, reply, errCode string) (bool, error) {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE a2a_tasks SET state = ?, reply = ?, error = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND state IN ('submitted', 'working')`),
		state, reply, errCode, time.Now().UnixMilli(), tenant, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// SetTaskMessage stores the user's message of a task, which names the task's id.
func (db *DB) SetTaskMessage(ctx context.Context, tenant, id string, msg agent.JSON) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE a2a_tasks SET message = ? WHERE tenant_id = ? AND id = ?`), msg, tenant, id)
	return err
}
