-- Each ledger row says whether the request was redacted before a cloud tier
-- (tenant setting redaction.cloud) and how many distinct values were replaced.
-- The values themselves are never stored.
ALTER TABLE ledger ADD COLUMN redaction BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN redacted BIGINT NOT NULL DEFAULT 0;
