-- /v1/files and /v1/batches. A file's bytes live on disk under the data dir
-- (files/<tenant>/<id>); its row is what the API sees, so a file exists exactly
-- while its row does. lines and endpoint are set on batch input files, checked
-- when they were uploaded.
CREATE TABLE files (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    filename   TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    lines      BIGINT NOT NULL DEFAULT 0,
    endpoint   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX files_tenant ON files (tenant_id, created_at, id);

-- A batch runs its lines as the principal that created it (user, role, token
-- name). Each line's one result is a job_results row under (tenant_id, id,
-- custom_id); completed and failed count them, in the same transaction that
-- stores them. running counts lines in flight, so a cancelled or expired batch is
-- finalized only once they are done. ending is the status finalizing leads to.
-- Times are unix milliseconds, 0 when unset.
CREATE TABLE batches (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    role              TEXT NOT NULL,
    token             TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    input_file_id     TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    metadata          TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL,
    ending            TEXT NOT NULL DEFAULT '',
    errors            TEXT NOT NULL DEFAULT '',
    total             BIGINT NOT NULL,
    completed         BIGINT NOT NULL DEFAULT 0,
    failed            BIGINT NOT NULL DEFAULT 0,
    running           BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    output_file_id    TEXT NOT NULL DEFAULT '',
    error_file_id     TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    in_progress_at    BIGINT NOT NULL DEFAULT 0,
    finalizing_at     BIGINT NOT NULL DEFAULT 0,
    completed_at      BIGINT NOT NULL DEFAULT 0,
    failed_at         BIGINT NOT NULL DEFAULT 0,
    expired_at        BIGINT NOT NULL DEFAULT 0,
    cancelling_at     BIGINT NOT NULL DEFAULT 0,
    cancelled_at      BIGINT NOT NULL DEFAULT 0,
    progress_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX batches_tenant ON batches (tenant_id, created_at, id);
CREATE INDEX batches_open ON batches (status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');
