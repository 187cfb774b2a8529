-- Each ledger row says which surface served it (v1, c1, a1, batch) and the
-- conversation, session or batch it belongs to, so usage can be read per
-- conversation or batch without joining request logs.
ALTER TABLE ledger ADD COLUMN surface TEXT NOT NULL DEFAULT 'v1';
ALTER TABLE ledger ADD COLUMN ref TEXT NOT NULL DEFAULT '';
