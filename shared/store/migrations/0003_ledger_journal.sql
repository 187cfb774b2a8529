-- The ledger journal (shared/billing) makes a row durable with one append before
-- the response ends and commits rows here in batches. committed_seq is the last
-- journal sequence number committed to the ledger, updated in the same transaction
-- as the rows, so replaying the journal after a crash adds each row exactly once.
CREATE TABLE ledger_journal (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    committed_seq INTEGER NOT NULL
);
INSERT INTO ledger_journal (id, committed_seq) VALUES (1, 0);
