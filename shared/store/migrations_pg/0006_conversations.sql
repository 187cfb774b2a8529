-- /c1 conversations. A turn in progress holds its conversation until lease_until
-- (unix ms), so two turns never interleave, on one host or several; a crashed
-- turn's lease simply expires. next_seq numbers the messages.
CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    metadata      TEXT NOT NULL DEFAULT '{}',
    model         TEXT NOT NULL DEFAULT '',
    provider      TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    messages      BIGINT NOT NULL DEFAULT 0,
    next_seq      BIGINT NOT NULL DEFAULT 1,
    lease_until   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX conversations_user ON conversations (tenant_id, user_id, updated_at, id);
CREATE INDEX conversations_tenant ON conversations (tenant_id, updated_at, id);

-- A message's body is the OpenAI message object sent to models; status says
-- whether it belongs to the history (ok) or to a turn in progress or failed.
CREATE TABLE conversation_messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    turn            TEXT NOT NULL,
    role            TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    tokens          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX conversation_messages_turn ON conversation_messages (conversation_id, turn);
