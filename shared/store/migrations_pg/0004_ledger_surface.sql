-- Each ledger row says which surface served it (v1, c1, a1, batch) and the
-- conversation, session or batch it belongs to, so usage can be read per
-- conversation or batch without joining request logs.
ALTER TABLE ledger ADD COLUMN surface TEXT NOT NULL DEFAULT 'v1';
ALTER TABLE ledger ADD COLUMN ref TEXT NOT NULL DEFAULT '';

-- Usage can be grouped by surface: the rollups get the column. They are derived
-- from the ledger, so they are rebuilt rather than migrated: the watermarks go back
-- to 0 and the next rollup folds the whole ledger again.
DROP TABLE usage_rollup;
CREATE TABLE usage_rollup (
    bucket            TEXT NOT NULL, -- 'hour' or 'day'
    tenant_id         TEXT NOT NULL,
    bucket_start      BIGINT NOT NULL, -- unix ms
    model             TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    backend           TEXT NOT NULL,
    surface           TEXT NOT NULL,
    requests          BIGINT NOT NULL,
    errors            BIGINT NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cached_tokens     BIGINT NOT NULL,
    cost_nusd         BIGINT NOT NULL,
    cost_neur         BIGINT NOT NULL,
    PRIMARY KEY (bucket, tenant_id, bucket_start, model, user_id, backend, surface)
);
UPDATE rollup_watermark SET last_ledger_id = 0;
