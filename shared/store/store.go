// Package store is the gateway's persistence through sqlx, on SQLite (the
// embedded default) or PostgreSQL (DATABASE_URL, several hosts sharing one
// database). Every repository method takes the tenant id and scopes its SQL by it.
//
// The repositories are written once: queries use "?" bind vars (sqlx.Rebind, or
// the PostgreSQL connection's own rewrite, see pg.go), booleans are INTEGER 0/1
// and JSON is TEXT in both dialects. What differs (the keyword search, metadata
// filters, PRAGMA) asks db.dialect. See migrations/README.md for the schema.
//
// SQLite: one writer connection (SQLite allows one writer; more connections only
// add "database is locked"), a pool of read-only connections, WAL, busy_timeout
// and immediate transactions. PostgreSQL: one pool; a write transaction takes a
// transaction-level advisory lock at BEGIN, which is what BEGIN IMMEDIATE is on
// SQLite, so the read-then-write transactions here stay correct across hosts.
package store

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// Dialect names the SQL database behind a DB.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// IsPostgresURL reports whether dsn names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// DB is an open store.
type DB struct {
	w       *sqlx.DB // the single writer (SQLite); the pool (PostgreSQL)
	r       *sqlx.DB // read-only pool (SQLite); the same pool (PostgreSQL)
	dialect Dialect
	// Path is the SQLite file, or the PostgreSQL URL without its password.
	Path string

	stmtMu       sync.Mutex
	ledgerInsert *sql.Stmt
}

// Dialect returns the database the store runs on.
func (db *DB) Dialect() Dialect { return db.dialect }

// Open opens (creating if needed) the store and migrates it: dsn is a SQLite file
// path, or a postgres:// URL. It refuses a database whose schema is newer than
// this binary knows.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL") // with WAL: durable across process crashes, fsync at checkpoints
	q.Set("_foreign_keys", "on")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate") // take the write lock at BEGIN, not at the first write
	w, err := sqlx.Open("sqlite3", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db := &DB{w: w, Path: path, dialect: SQLite}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	q.Set("_query_only", "true")
	r, err := sqlx.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.r = r
	return db, nil
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != nil && db.r != db.w {
		if rerr := db.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check and returns its verdict
// ("ok"); PostgreSQL checks its own pages, so there it only asks the server.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	q := "PRAGMA integrity_check"
	if db.dialect == Postgres {
		q = "SELECT 'ok'"
	}
	err := db.w.GetContext(ctx, &s, q)
	return s, err
}

// Ping checks the writer connection.
func (db *DB) Ping(ctx context.Context) error { return db.w.PingContext(ctx) }

// OpenRaw opens the SQLite file without migrating, for tools and tests that
// inspect or damage it on purpose.
func OpenRaw(path string) (*sqlx.DB, error) {
	return sqlx.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
}
