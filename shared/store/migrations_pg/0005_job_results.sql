-- One result per inference job: a batch line, a queued chat. The key is the
-- caller's name for the job within ref (a batch's custom_id); the first result
-- stored wins, so a retried or duplicated job never leaves two.
CREATE TABLE job_results (
    tenant_id  TEXT NOT NULL,
    ref        TEXT NOT NULL,
    key        TEXT NOT NULL,
    request_id TEXT NOT NULL,
    status     BIGINT NOT NULL,
    body       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ref, key)
);
