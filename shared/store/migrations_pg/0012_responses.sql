-- /v1/responses: the responses clients created with store (OpenAI's default), so
-- GET /v1/responses/{id} returns them and previous_response_id continues from
-- them on any backend. input is the request's input items (a JSON array), body
-- the response object as delivered; previous_id links a conversation's chain.
CREATE TABLE responses (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    previous_id TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL,
    status      TEXT NOT NULL,
    input       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX responses_user ON responses (tenant_id, user_id, created_at);
