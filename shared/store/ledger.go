package store

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// LedgerRow is one billed request or sub-call.
type LedgerRow struct {
	ID               int64  `db:"id"`
	TenantID         string `db:"tenant_id"`
	UserID           string `db:"user_id"`
	RequestID        string `db:"request_id"`
	ParentRequestID  string `db:"parent_request_id"`
	Route            string `db:"route"`
	Surface          string `db:"surface"` // v1, c1, a1, batch
	Ref              string `db:"ref"`     // the conversation, session or batch id
	Agent            string `db:"agent"`   // the agent of an a1 row
	Model            string `db:"model"`
	Backend          string `db:"backend"`
	Tier             int    `db:"tier"`
	PromptTokens     int64  `db:"prompt_tokens"`
	CompletionTokens int64  `db:"completion_tokens"`
	CachedTokens     int64  `db:"cached_tokens"`
	CostNanoUSD      int64  `db:"cost_nusd"`
	CostNanoEUR      int64  `db:"cost_neur"`
	LatencyMS        int64  `db:"latency_ms"`
	Status           int    `db:"status"`
	Estimated        bool   `db:"estimated"`
	Redaction        bool   `db:"redaction"`  // the request was redacted before a cloud tier
	Redacted         int    `db:"redacted"`   // distinct values redacted
	CreatedAt        int64  `db:"created_at"` // unix ms
}

// insertLedger binds by position: a named statement resolves the 22 fields of
// each row by reflection, which cost the ledger's writer more than the insert.
const insertLedger = `INSERT INTO ledger (tenant_id, user_id, request_id, parent_request_id, route, surface, ref, agent, model, backend, tier,
	prompt_tokens, completion_tokens, cached_tokens, cost_nusd, cost_neur, latency_ms, status, estimated, redaction, redacted, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// args returns r's values in insertLedger's order.
func (r *LedgerRow) args() []any {
	return []any{r.TenantID, r.UserID, r.RequestID, r.ParentRequestID, r.Route, r.Surface, r.Ref, r.Agent, r.Model, r.Backend, r.Tier,
		r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.CostNanoUSD, r.CostNanoEUR, r.LatencyMS, r.Status, r.Estimated, r.Redaction, r.Redacted, r.CreatedAt}
}

// InsertLedger writes rows in one transaction: a burst of requests costs one
// commit rather than one each.
func (db *DB) InsertLedger(ctx context.Context, rows []LedgerRow) error {
	return db.insertLedger(ctx, rows, nil)
}

// CommitJournal writes rows and records seq as journal's last committed sequence
// number, in one transaction: a journal replayed after a crash skips what this
// committed, so no row is written twice.
func (db *DB) CommitJournal(ctx context.Context, rows []LedgerRow, journal string, seq int64) error {
	return db.insertLedger(ctx, rows, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ledger_journal (journal_id, committed_seq) VALUES (?, ?)
			ON CONFLICT (journal_id) DO UPDATE SET committed_seq = excluded.committed_seq`, journal, seq)
		return err
	})
}

// JournalSeq returns the last sequence number of journal committed to the
// ledger, 0 for a journal never committed.
func (db *DB) JournalSeq(ctx context.Context, journal string) (int64, error) {
	var seq int64
	err := db.w.GetContext(ctx, &seq, `SELECT COALESCE(MAX(committed_seq), 0) FROM ledger_journal WHERE journal_id = ?`, journal)
	return seq, err
}

// ForgetJournal drops the record of a journal whose files are gone.
func (db *DB) ForgetJournal(ctx context.Context, journal string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM ledger_journal WHERE journal_id = ?`, journal)
	return err
}

func (db *DB) insertLedger(ctx context.Context, rows []LedgerRow, also func(*sqlx.Tx) error) error {
	// Prepare before BEGIN: the writer pool has one connection, which the
	// transaction then holds.
	stmt, err := db.ledgerStmt(ctx)
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt = tx.StmtContext(ctx, stmt)
	for i := range rows {
		if _, err := stmt.ExecContext(ctx, rows[i].args()...); err != nil {
			return err
		}
	}
	if also != nil {
		if err := also(tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// LedgerRows returns the tenant's rows created in [from, to) (unix ms), oldest first.
func (db *DB) LedgerRows(ctx context.Context, tenant string, from, to int64) ([]LedgerRow, error) {
	var rows []LedgerRow
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT * FROM ledger WHERE tenant_id = ? AND created_at >= ? AND created_at < ? ORDER BY id`), tenant, from, to)
	return rows, err
}

// LedgerByRequest returns the tenant's rows of one request and its sub-calls.
func (db *DB) LedgerByRequest(ctx context.Context, tenant, requestID string) ([]LedgerRow, error) {
	var rows []LedgerRow
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT * FROM ledger WHERE tenant_id = ? AND (request_id = ? OR parent_request_id = ?) ORDER BY id`), tenant, requestID, requestID)
	return rows, err
}

// LedgerHasRequest reports whether the tenant's request has a row of its own
// (sub-calls have their own ids). The journal replay asks it before billing a
// request that a dead process began, so that the request is billed once. It reads
// on the writer connection, which the replay's commit uses next.
func (db *DB) LedgerHasRequest(ctx context.Context, tenant, requestID string) (bool, error) {
	var n int
	err := db.w.GetContext(ctx, &n, db.w.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM ledger WHERE tenant_id = ? AND request_id = ? LIMIT 1) AS r`), tenant, requestID)
	return n > 0, err
}

// ledgerStmt prepares the insert once on the writer connection: it runs on every
// request, and parsing it per commit costs more than the insert.
func (db *DB) ledgerStmt(ctx context.Context) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if db.ledgerInsert == nil {
		st, err := db.w.PrepareContext(ctx, db.w.Rebind(insertLedger))
		if err != nil {
			return nil, err
		}
		db.ledgerInsert = st
	}
	return db.ledgerInsert, nil
}
