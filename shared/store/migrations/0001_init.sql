-- Per-tenant configuration overrides: the DB level of the config cascade.
CREATE TABLE tenant_config (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL, -- JSON
    updated_at INTEGER NOT NULL, -- unix ms
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- The ledger: one row per request and per sub-call; the source of truth for billing.
-- Costs are integers in nano-units (1e-9 USD/EUR) so sums are exact.
CREATE TABLE ledger (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL DEFAULT '',
    request_id        TEXT NOT NULL,
    parent_request_id TEXT NOT NULL DEFAULT '',
    route             TEXT NOT NULL,
    model             TEXT NOT NULL,
    backend           TEXT NOT NULL DEFAULT '',
    tier              INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens     INTEGER NOT NULL DEFAULT 0,
    cost_nusd         INTEGER NOT NULL DEFAULT 0,
    cost_neur         INTEGER NOT NULL DEFAULT 0,
    latency_ms        INTEGER NOT NULL DEFAULT 0,
    status            INTEGER NOT NULL,
    estimated         INTEGER NOT NULL DEFAULT 0, -- usage estimated (stream cut before usage arrived)
    created_at        INTEGER NOT NULL -- unix ms
);
CREATE INDEX ledger_tenant_time ON ledger (tenant_id, created_at);
CREATE INDEX ledger_request ON ledger (tenant_id, request_id);

-- Rollups of the ledger per hour and per day, filled up to a watermark (the last
-- ledger id they include), so usage = rollups + the ledger tail past the watermark.
CREATE TABLE usage_rollup (
    bucket            TEXT NOT NULL, -- 'hour' or 'day'
    tenant_id         TEXT NOT NULL,
    bucket_start      INTEGER NOT NULL, -- unix ms
    model             TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    backend           TEXT NOT NULL,
    requests          INTEGER NOT NULL,
    errors            INTEGER NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cached_tokens     INTEGER NOT NULL,
    cost_nusd         INTEGER NOT NULL,
    cost_neur         INTEGER NOT NULL,
    PRIMARY KEY (bucket, tenant_id, bucket_start, model, user_id, backend)
);

CREATE TABLE rollup_watermark (
    bucket         TEXT PRIMARY KEY,
    last_ledger_id INTEGER NOT NULL
);
INSERT INTO rollup_watermark (bucket, last_ledger_id) VALUES ('hour', 0), ('day', 0);
