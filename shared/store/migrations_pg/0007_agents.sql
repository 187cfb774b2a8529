-- /a1: agents defined through the API (file agents live in files), sessions, their
-- messages and the segments compaction chains. Messages never move: a segment
-- says from which seq on they are replayed verbatim, after the summary and the
-- durable facts of everything before. A turn or a compaction holds its session
-- until lease_until (unix ms).
CREATE TABLE agents (
    tenant_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL, -- the agent as JSON
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE agent_sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    agent       TEXT NOT NULL,
    overrides   TEXT NOT NULL DEFAULT '{}',
    segment     BIGINT NOT NULL DEFAULT 1,
    messages    BIGINT NOT NULL DEFAULT 0,
    next_seq    BIGINT NOT NULL DEFAULT 1,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX agent_sessions_agent ON agent_sessions (tenant_id, agent, user_id, updated_at);

CREATE TABLE session_messages (
    session_id TEXT NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    turn       TEXT NOT NULL,
    role       TEXT NOT NULL,
    body       TEXT NOT NULL,
    steps      TEXT NOT NULL DEFAULT '[]',
    status     TEXT NOT NULL,
    tokens     BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE session_segments (
    session_id TEXT NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    number     BIGINT NOT NULL,
    start_seq  BIGINT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    facts      TEXT NOT NULL DEFAULT '[]',
    turn       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, number)
);

-- Ledger rows of agent turns name the agent (the session is the row's ref).
ALTER TABLE ledger ADD COLUMN agent TEXT NOT NULL DEFAULT '';
