-- A2A tasks: each is one /a1 turn asked for over A2A (functions/agents a2a*.go).
-- The task's contextId is its /a1 session; turn is the turn's request id.
CREATE TABLE a2a_tasks (
    id         TEXT PRIMARY KEY, -- task_<hex>
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    agent      TEXT NOT NULL,
    session_id TEXT NOT NULL,
    turn       TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('submitted', 'working', 'completed', 'canceled', 'failed')),
    message    TEXT NOT NULL,            -- the user's A2A message (JSON)
    reply      TEXT NOT NULL DEFAULT '', -- the agent's answer
    error      TEXT NOT NULL DEFAULT '', -- why a failed task failed (an error code)
    created_at BIGINT NOT NULL,         -- unix ms
    updated_at BIGINT NOT NULL          -- unix ms
);
CREATE INDEX a2a_tasks_session ON a2a_tasks (tenant_id, session_id);
