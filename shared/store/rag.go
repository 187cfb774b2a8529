package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"spass/shared/ragdoc"
)

// RAG indices and documents. Every method takes the tenant and names it in its
// SQL, so an index or document id of another tenant reads as missing. Chunks,
// searches and vectors are in ragchunks.go, confirmation tokens in ragconfirm.go.
// RAG is SQLite's alone (FTS5), so these queries are written for it, unrebound.

// Errors of the RAG writes; the feature maps them to catalog codes.
var (
	ErrRAGIndexExists    = errors.New("store: a RAG index of that name exists")
	ErrRAGIndexLimit     = errors.New("store: the tenant has the most RAG indices allowed")
	ErrRAGDocumentExists = errors.New("store: a document with that id exists")
	ErrRAGIndexNotFound  = errors.New("store: no such RAG index")
)

const ragIndexColumns = `id, name, description, embedding_model, dimensions, chunk_size, chunk_overlap, generation, created_at, updated_at`

// CreateRAGIndex stores a new index for the tenant under a fresh id, unless the
// name is taken (ErrRAGIndexExists) or the tenant holds most indices already
// (ErrRAGIndexLimit); both are checked in the write transaction.
func (db *DB) CreateRAGIndex(ctx context.Context, tenant string, ix ragdoc.Index, most int) (ragdoc.Index, error) {
	ix.ID = newObjectID("rix_")
	ix.CreatedAt = time.Now().UnixMilli()
	ix.UpdatedAt, ix.Generation = ix.CreatedAt, 0
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return ix, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM rag_indices WHERE tenant_id = ?`, tenant); err != nil {
		return ix, err
	}
	if n >= most {
		return ix, ErrRAGIndexLimit
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO rag_indices (id, tenant_id, name, description, embedding_model, dimensions,
		chunk_size, chunk_overlap, generation, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		ix.ID, tenant, ix.Name, ix.Description, ix.EmbeddingModel, ix.Dimensions, ix.ChunkSize, ix.ChunkOverlap, ix.CreatedAt, ix.UpdatedAt)
	if err != nil {
		if isUniqueViolation(err) {
			return ix, ErrRAGIndexExists
		}
		return ix, err
	}
	return ix, tx.Commit()
}

// RAGIndex returns the tenant's index called name.
func (db *DB) RAGIndex(ctx context.Context, tenant, name string) (ragdoc.Index, bool, error) {
	return db.ragIndexWhere(ctx, `tenant_id = ? AND name = ?`, tenant, name)
}

// RAGIndexByID returns the tenant's index with that id (what jobs carry).
func (db *DB) RAGIndexByID(ctx context.Context, tenant, id string) (ragdoc.Index, bool, error) {
	return db.ragIndexWhere(ctx, `tenant_id = ? AND id = ?`, tenant, id)
}

func (db *DB) ragIndexWhere(ctx context.Context, where string, args ...any) (ragdoc.Index, bool, error) {
	var ix ragdoc.Index
	err := db.r.GetContext(ctx, &ix, `SELECT `+ragIndexColumns+` FROM rag_indices WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return ix, false, nil
	}
	return ix, err == nil, err
}

// RAGIndices lists the tenant's indices by name.
func (db *DB) RAGIndices(ctx context.Context, tenant string) ([]ragdoc.Index, error) {
	out := []ragdoc.Index{}
	err := db.r.SelectContext(ctx, &out, `SELECT `+ragIndexColumns+` FROM rag_indices WHERE tenant_id = ? ORDER BY name`, tenant)
	return out, err
}

// HasRAGIndex reports whether the tenant has any index (rag_query is offered then).
func (db *DB) HasRAGIndex(ctx context.Context, tenant string) (bool, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM rag_indices WHERE tenant_id = ? LIMIT 1) AS x`, tenant)
	return n == 1, err
}

// RAGIndexCounts returns the document and chunk totals of the tenant's index.
func (db *DB) RAGIndexCounts(ctx context.Context, tenant, indexID string) (ragdoc.Counts, error) {
	var c ragdoc.Counts
	err := db.r.GetContext(ctx, &c, `SELECT COUNT(*) AS documents,
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
		COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
		COALESCE(SUM(chunks), 0) AS chunks FROM rag_documents WHERE tenant_id = ? AND index_id = ?`, tenant, indexID)
	return c, err
}

// DeleteRAGIndex removes the tenant's index with its documents and chunks (the
// keyword rows go with them, by trigger), in one transaction.
func (db *DB) DeleteRAGIndex(ctx context.Context, tenant, id string) (bool, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM rag_indices WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

const ragDocColumns = `id, index_id, title, content_type, content, metadata, status, error, version, chunks, bytes, created_at, updated_at, indexed_at`

// ragDocSummary is ragDocColumns without the content, for lists.
const ragDocSummary = `id, index_id, title, content_type, '' AS content, metadata, status, error, version, chunks, bytes, created_at, updated_at, indexed_at`

// PutRAGDocument stores d in the tenant's index. With replace false an existing id
// is ErrRAGDocumentExists; with replace true it is overwritten. A new or changed
// document (title, type or content) becomes pending under a new version, and
// reindex says so: its caller enqueues the job for that version. A replacement
// that changes only the metadata keeps its status and chunks. The old chunks stay
// searchable until the new ones are written.
func (db *DB) PutRAGDocument(ctx context.Context, tenant string, d ragdoc.Document, replace bool) (out ragdoc.Document, created, reindex bool, err error) {
	now := time.Now().UnixMilli()
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return d, false, false, err
	}
	defer tx.Rollback()
	var ok int
	if err := tx.GetContext(ctx, &ok, `SELECT COUNT(*) FROM rag_indices WHERE tenant_id = ? AND id = ?`, tenant, d.IndexID); err != nil {
		return d, false, false, err
	} else if ok == 0 {
		return d, false, false, ErrRAGIndexNotFound // deleted meanwhile
	}
	var old ragdoc.Document
	err = tx.GetContext(ctx, &old, `SELECT `+ragDocColumns+` FROM rag_documents WHERE tenant_id = ? AND index_id = ? AND id = ?`, tenant, d.IndexID, d.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		created, reindex = true, true
		d.Version, d.CreatedAt = 1, now
	case err != nil:
		return d, false, false, err
	case !replace:
		return d, false, false, ErrRAGDocumentExists
	default:
		d.CreatedAt = old.CreatedAt
		reindex = old.Title != d.Title || old.ContentType != d.ContentType || old.Content != d.Content || old.Status == ragdoc.StatusFailed
		d.Version, d.Status, d.Error, d.Chunks, d.IndexedAt = old.Version, old.Status, old.Error, old.Chunks, old.IndexedAt
		if reindex {
			d.Version++
		}
	}
	if reindex {
		d.Status, d.Error = ragdoc.StatusPending, ""
	}
	d.UpdatedAt, d.Bytes = now, len(d.Content)
	if d.Metadata == "" {
		d.Metadata = `{}`
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO rag_documents (index_id, tenant_id, id, title, content_type, content, metadata,
		status, error, version, chunks, bytes, created_at, updated_at, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (index_id, id) DO UPDATE SET title = excluded.title, content_type = excluded.content_type,
			content = excluded.content, metadata = excluded.metadata, status = excluded.status, error = excluded.error,
			version = excluded.version, bytes = excluded.bytes, updated_at = excluded.updated_at`,
		d.IndexID, tenant, d.ID, d.Title, d.ContentType, d.Content, d.Metadata, d.Status, d.Error, d.Version,
		d.Chunks, d.Bytes, d.CreatedAt, d.UpdatedAt, d.IndexedAt)
	if err != nil {
		return d, false, false, err
	}
	return d, created, reindex, tx.Commit()
}

// RAGDocument returns one document of the tenant's index, content included.
func (db *DB) RAGDocument(ctx context.Context, tenant, indexID, id string) (ragdoc.Document, bool, error) {
	var d ragdoc.Document
	err := db.r.GetContext(ctx, &d, `SELECT `+ragDocColumns+` FROM rag_documents WHERE tenant_id = ? AND index_id = ? AND id = ?`, tenant, indexID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	return d, err == nil, err
}

// RAGDocuments lists the documents of the tenant's index by id, after the id
// after, without their content; status, when set, keeps only that status.
func (db *DB) RAGDocuments(ctx context.Context, tenant, indexID, after, status string, limit int) ([]ragdoc.Document, error) {
	q := `SELECT ` + ragDocSummary + ` FROM rag_documents WHERE tenant_id = ? AND index_id = ? AND id > ?`
	args := []any{tenant, indexID, after}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	out := []ragdoc.Document{}
	err := db.r.SelectContext(ctx, &out, q+` ORDER BY id LIMIT ?`, append(args, limit)...)
	return out, err
}

// DeleteRAGDocument removes a document and, at once, its chunks.
func (db *DB) DeleteRAGDocument(ctx context.Context, tenant, indexID, id string) (bool, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM rag_documents WHERE tenant_id = ? AND index_id = ? AND id = ?`, tenant, indexID, id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := bumpGeneration(ctx, tx, tenant, indexID); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// MarkRAGDocumentFailed records why indexing version of the document failed;
// a document that moved on to another version is left alone.
func (db *DB) MarkRAGDocumentFailed(ctx context.Context, tenant, indexID, id string, version int64, reason string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE rag_documents SET status = 'failed', error = ?
		WHERE tenant_id = ? AND index_id = ? AND id = ? AND version = ?`, reason, tenant, indexID, id, version)
	return err
}

// RAGReindex makes the named documents (every document when ids is empty)
// pending under a new version and returns each one's id and version, for the jobs
// that re-embed them; versions in flight become no-ops.
func (db *DB) RAGReindex(ctx context.Context, tenant, indexID string, ids []string) (map[string]int64, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `UPDATE rag_documents SET status = 'pending', error = '', version = version + 1, updated_at = ?
		WHERE tenant_id = ? AND index_id = ?`
	args := []any{time.Now().UnixMilli(), tenant, indexID}
	if len(ids) > 0 {
		q += ` AND id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := tx.QueryxContext(ctx, q+` RETURNING id, version`, args...)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = v
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}
