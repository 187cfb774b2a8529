-- RAG: a tenant's indices, their documents, and the documents' chunks with their
-- embeddings (little-endian float32, unit length, scored in Go: there is no vector
-- extension). Keyword search is FTS5 (build tag sqlite_fts5): rag_fts is contentless,
-- its rows share the chunks' rowids and triggers keep the two in step, so removing a
-- document or an index (ON DELETE CASCADE) removes its keyword rows in the same
-- transaction.
CREATE TABLE rag_indices (
    id              TEXT PRIMARY KEY, -- rix_<hex>, never reused
    tenant_id       TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    embedding_model TEXT NOT NULL,
    dimensions      INTEGER NOT NULL DEFAULT 0, -- 0: the model's own
    chunk_size      INTEGER NOT NULL,           -- characters
    chunk_overlap   INTEGER NOT NULL,           -- characters
    generation      INTEGER NOT NULL DEFAULT 0, -- bumped by every chunk change
    created_at      INTEGER NOT NULL,           -- unix ms
    updated_at      INTEGER NOT NULL,           -- unix ms
    UNIQUE (tenant_id, name)
);

CREATE TABLE rag_documents (
    index_id     TEXT NOT NULL REFERENCES rag_indices (id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL,
    content      TEXT NOT NULL,
    metadata     TEXT NOT NULL DEFAULT '{}', -- JSON object of scalars
    status       TEXT NOT NULL CHECK (status IN ('pending', 'indexed', 'failed')),
    error        TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL,           -- grows with each change to index
    chunks       INTEGER NOT NULL DEFAULT 0,
    bytes        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,           -- unix ms
    updated_at   INTEGER NOT NULL,           -- unix ms
    indexed_at   INTEGER NOT NULL DEFAULT 0, -- unix ms
    PRIMARY KEY (index_id, id)
);
CREATE INDEX rag_documents_tenant ON rag_documents (tenant_id, index_id, status);

CREATE TABLE rag_chunks (
    id          INTEGER PRIMARY KEY, -- the rag_fts rowid
    tenant_id   TEXT NOT NULL,
    index_id    TEXT NOT NULL,
    document_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    start       INTEGER NOT NULL, -- offset in characters of the document's text
    text        TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    FOREIGN KEY (index_id, document_id) REFERENCES rag_documents (index_id, id) ON DELETE CASCADE
);
CREATE INDEX rag_chunks_document ON rag_chunks (index_id, document_id, seq);

-- ikey is 'k' and the hex of the index id, one token, matched in every query so
-- FTS5 itself narrows to the index; title and body are weighted by bm25().
CREATE VIRTUAL TABLE rag_fts USING fts5 (
    ikey, title, body,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER rag_chunks_insert AFTER INSERT ON rag_chunks BEGIN
    INSERT INTO rag_fts (rowid, ikey, title, body) VALUES (new.id, 'k' || substr(new.index_id, 5),
        (SELECT title FROM rag_documents WHERE index_id = new.index_id AND id = new.document_id), new.text);
END;

CREATE TRIGGER rag_chunks_delete AFTER DELETE ON rag_chunks BEGIN
    DELETE FROM rag_fts WHERE rowid = old.id;
END;

-- Confirmation tokens of the destructive RAG tools: only the token's SHA-256 is
-- kept, with what it is bound to (session or caller, tool, arguments) and the
-- state it was issued against; a token is used once.
CREATE TABLE rag_confirmations (
    tenant_id  TEXT NOT NULL,
    digest     TEXT NOT NULL,
    binding    TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL, -- unix ms
    PRIMARY KEY (tenant_id, digest)
);
CREATE INDEX rag_confirmations_expiry ON rag_confirmations (expires_at);
