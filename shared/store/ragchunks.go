package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"math"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"spass/shared/ragdoc"
)

// SaveRAGChunks writes the chunks of each document in one transaction: a
// document's old chunks are replaced and it becomes indexed, unless it was
// deleted or changed to another version meanwhile (a newer job will write it).
// It returns the ids of the documents written and bumps the index's generation
// once. The benchmark seeds 100,000 chunks through it in one call.
func (db *DB) SaveRAGChunks(ctx context.Context, tenant, indexID string, docs []ragdoc.DocChunks) ([]string, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ins, err := tx.PreparexContext(ctx, `INSERT INTO rag_chunks (tenant_id, index_id, document_id, seq, start, text, embedding)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	defer ins.Close()
	now := time.Now().UnixMilli()
	var written []string
	var buf []byte
	for _, d := range docs {
		var version int64
		err := tx.GetContext(ctx, &version, `SELECT version FROM rag_documents WHERE tenant_id = ? AND index_id = ? AND id = ?`,
			tenant, indexID, d.DocumentID)
		if err != nil || version != d.Version {
			continue // gone, or another version is on its way
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM rag_chunks WHERE tenant_id = ? AND index_id = ? AND document_id = ?`,
			tenant, indexID, d.DocumentID); err != nil {
			return nil, err
		}
		for _, c := range d.Chunks {
			buf = EncodeVector(buf[:0], c.Embedding)
			if _, err := ins.ExecContext(ctx, tenant, indexID, d.DocumentID, c.Seq, c.Offset, c.Text, buf); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rag_documents SET status = 'indexed', error = '', chunks = ?, indexed_at = ?
			WHERE tenant_id = ? AND index_id = ? AND id = ?`, len(d.Chunks), now, tenant, indexID, d.DocumentID); err != nil {
			return nil, err
		}
		written = append(written, d.DocumentID)
	}
	if len(written) > 0 {
		if err := bumpGeneration(ctx, tx, tenant, indexID); err != nil {
			return nil, err
		}
	}
	return written, tx.Commit()
}

// bumpGeneration marks the index's chunks changed, so every process's vector cache
// reloads.
func bumpGeneration(ctx context.Context, tx *sqlx.Tx, tenant, indexID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE rag_indices SET generation = generation + 1, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		time.Now().UnixMilli(), tenant, indexID)
	return err
}

// EncodeVector appends v as little-endian float32s.
func EncodeVector(dst []byte, v []float32) []byte {
	for _, f := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	return dst
}

// SearchRAGKeyword runs an FTS5 query over the tenant's index: terms is an FTS5
// expression over the title and body columns (the caller quotes every term), and
// the index's own key is added, so FTS5 itself narrows to the index. Hits carry
// their rowid, document and the negated bm25 (higher is better), best first.
//
// Without a filter it is two steps: FTS5 ranks and cuts to limit on its own, then
// the winners are looked up in the chunks, scoped by tenant and index. A join of
// every match (or FTS5's ranking inside a subquery) costs a lookup or a second
// bm25 per match, most of a query's time when common words match every chunk.
// Ordering by the score's alias computes bm25 once per match.
func (db *DB) SearchRAGKeyword(ctx context.Context, tenant, indexID, terms string, f ragdoc.Filter, limit int) ([]ragdoc.Hit, error) {
	if db.dialect == Postgres {
		return db.searchRAGKeywordPG(ctx, tenant, indexID, terms, f, limit)
	}
	match := `ikey:"k` + strings.TrimPrefix(indexID, "rix_") + `" AND {title body}: (` + terms + `)`
	const score = `-bm25(rag_fts, 0.0, 0.5, 1.0) AS score`
	out := []ragdoc.Hit{}
	if len(f) > 0 {
		cond, cargs := db.filterClause(f)
		err := db.r.SelectContext(ctx, &out, `SELECT c.id AS rowid, c.document_id, `+score+` FROM rag_fts
			JOIN rag_chunks c ON c.id = rag_fts.rowid JOIN rag_documents d ON d.index_id = c.index_id AND d.id = c.document_id
			WHERE rag_fts MATCH ? AND c.tenant_id = ? AND c.index_id = ?`+cond+` ORDER BY score DESC, c.id LIMIT ?`,
			append(append([]any{match, tenant, indexID}, cargs...), limit)...)
		return out, err
	}
	var ranked []ragdoc.Hit
	if err := db.r.SelectContext(ctx, &ranked, `SELECT rowid, `+score+` FROM rag_fts WHERE rag_fts MATCH ? ORDER BY score DESC LIMIT ?`, match, limit); err != nil || len(ranked) == 0 {
		return out, err
	}
	args := []any{tenant, indexID}
	for _, h := range ranked {
		args = append(args, h.RowID)
	}
	var owned []ragdoc.Hit
	err := db.r.SelectContext(ctx, &owned, `SELECT id AS rowid, document_id FROM rag_chunks WHERE tenant_id = ? AND index_id = ?
		AND id IN (?`+strings.Repeat(`, ?`, len(ranked)-1)+`)`, args...)
	if err != nil {
		return out, err
	}
	doc := make(map[int64]string, len(owned))
	for _, h := range owned {
		doc[h.RowID] = h.DocumentID
	}
	for _, h := range ranked { // in rank order; ties by rowid, as FTS5 returns them
		if d, ok := doc[h.RowID]; ok {
			h.DocumentID = d
			out = append(out, h)
		}
	}
	return out, nil
}

// RAGFilterDocuments returns the ids of the tenant's documents in the index that
// pass the filter, for the vector search to skip the others.
func (db *DB) RAGFilterDocuments(ctx context.Context, tenant, indexID string, f ragdoc.Filter) (map[string]bool, error) {
	cond, args := db.filterClause(f)
	var ids []string
	err := db.r.SelectContext(ctx, &ids, `SELECT d.id FROM rag_documents d WHERE d.tenant_id = ? AND d.index_id = ?`+cond,
		append([]any{tenant, indexID}, args...)...)
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// RAGChunks returns the named chunks of the tenant's index with their text and
// their document's title and metadata, in no particular order; a rowid of another
// index or tenant, or of a chunk deleted since, is simply absent.
func (db *DB) RAGChunks(ctx context.Context, tenant, indexID string, rowids []int64) ([]ragdoc.Hit, error) {
	out := []ragdoc.Hit{}
	if len(rowids) == 0 {
		return out, nil
	}
	args := []any{tenant, indexID}
	for _, id := range rowids {
		args = append(args, id)
	}
	err := db.r.SelectContext(ctx, &out, `SELECT c.id AS rowid, c.document_id, c.seq, c.start, c.text, d.title, d.metadata, 0.0 AS score
		FROM rag_chunks c JOIN rag_documents d ON d.index_id = c.index_id AND d.id = c.document_id
		WHERE c.tenant_id = ? AND c.index_id = ? AND c.id IN (?`+strings.Repeat(`, ?`, len(rowids)-1)+`)`, args...)
	return out, err
}

// RAGVectors loads every chunk embedding of the tenant's index with the index's
// generation, read in one transaction so the two agree.
func (db *DB) RAGVectors(ctx context.Context, tenant, indexID string) (*ragdoc.Vectors, error) {
	tx, err := db.r.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	v := &ragdoc.Vectors{}
	if err := tx.GetContext(ctx, &v.Generation, `SELECT generation FROM rag_indices WHERE tenant_id = ? AND id = ?`, tenant, indexID); err != nil {
		return nil, err
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM rag_chunks WHERE tenant_id = ? AND index_id = ?`, tenant, indexID); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, document_id, embedding FROM rag_chunks WHERE tenant_id = ? AND index_id = ? ORDER BY id`, tenant, indexID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v.RowIDs, v.Docs = make([]int64, 0, n), make([]string, 0, n)
	interned := map[string]string{}
	var doc string
	var emb []byte
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &doc, &emb); err != nil {
			return nil, err
		}
		if v.Dims == 0 {
			v.Dims = len(emb) / 4
			v.Data = make([]float32, 0, n*v.Dims)
		}
		if len(emb) != v.Dims*4 || v.Dims == 0 {
			continue // written by another model size; never scored against this one
		}
		d, ok := interned[doc]
		if !ok {
			d = strings.Clone(doc)
			interned[d] = d
		}
		v.RowIDs, v.Docs = append(v.RowIDs, id), append(v.Docs, d)
		for i := 0; i < len(emb); i += 4 {
			v.Data = append(v.Data, math.Float32frombits(binary.LittleEndian.Uint32(emb[i:])))
		}
	}
	return v, rows.Err()
}

// searchRAGKeywordPG is SearchRAGKeyword on PostgreSQL: the chunks' tsv (GIN
// indexed) matched against the words, any of them, ranked by ts_rank with the
// body weighted over the title, ties by rowid as on SQLite.
func (db *DB) searchRAGKeywordPG(ctx context.Context, tenant, indexID, terms string, f ragdoc.Filter, limit int) ([]ragdoc.Hit, error) {
	cond, cargs := db.filterClause(f)
	join := ``
	if len(f) > 0 {
		join = ` JOIN rag_documents d ON d.index_id = c.index_id AND d.id = c.document_id`
	}
	out := []ragdoc.Hit{}
	err := db.r.SelectContext(ctx, &out, `SELECT c.id AS rowid, c.document_id, ts_rank('{0, 0, 0.5, 1}', c.tsv, q) AS score
		FROM to_tsquery('english', ?) AS q, rag_chunks c`+join+`
		WHERE c.tsv @@ q AND c.tenant_id = ? AND c.index_id = ?`+cond+` ORDER BY score DESC, c.id LIMIT ?`,
		append(append([]any{tsQuery(terms), tenant, indexID}, cargs...), limit)...)
	return out, err
}
