-- Memory of the stack tools and /v1/memory: entries per tenant in three scopes.
-- owner is the end user (scope user), '' (scope tenant) or the agent name (scope
-- agent); a key is unique within its tenant, scope and owner, so saving a key again
-- replaces the entry. search is lower(key || '\n' || content), computed by the
-- gateway so that case-insensitive search folds Unicode the way Go does.
CREATE TABLE memory (
    id         TEXT PRIMARY KEY, -- mem_<hex>
    tenant_id  TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('user', 'tenant', 'agent')),
    owner      TEXT NOT NULL DEFAULT '',
    key        TEXT NOT NULL,
    content    TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    search     TEXT NOT NULL,
    created_at BIGINT NOT NULL, -- unix ms
    updated_at BIGINT NOT NULL, -- unix ms
    UNIQUE (tenant_id, scope, owner, key)
);
CREATE INDEX memory_recent ON memory (tenant_id, scope, owner, updated_at);

-- The image store: uploads (for vision requests) and generated images, owned by the
-- end user who created them.
CREATE TABLE images (
    id           TEXT PRIMARY KEY, -- img_<hex>
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL,
    bytes        BYTEA NOT NULL,
    size         BIGINT NOT NULL, -- length of bytes
    width        BIGINT NOT NULL DEFAULT 0,
    height       BIGINT NOT NULL DEFAULT 0,
    source       TEXT NOT NULL CHECK (source IN ('upload', 'generated')),
    prompt       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL -- unix ms
);
CREATE INDEX images_user_recent ON images (tenant_id, user_id, created_at);
CREATE INDEX images_recent ON images (tenant_id, created_at);

-- Named system prompts: owner '' is the tenant's, otherwise the end user's.
CREATE TABLE system_prompts (
    tenant_id  TEXT NOT NULL,
    owner      TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at BIGINT NOT NULL, -- unix ms
    updated_at BIGINT NOT NULL, -- unix ms
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, owner, name)
);
