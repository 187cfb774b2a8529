-- The ledger journal (shared/billing) makes a row durable with one append before
-- the response ends and commits rows here in batches. Each gateway process has
-- its own journal; committed_seq is the last of its sequence numbers committed to
-- the ledger, updated in the same transaction as the rows, so replaying a dead
-- process's journal adds each row exactly once.
CREATE TABLE ledger_journal (
    journal_id    TEXT PRIMARY KEY,
    committed_seq BIGINT NOT NULL
);
