// Package store is the gateway's SQLite persistence through sqlx: one writer
// connection (SQLite allows one writer; more connections only add "database is
// locked"), a pool of read-only connections, WAL, busy_timeout and immediate
// transactions, and numbered migrations embedded in the binary. Every repository
// method takes the tenant id and scopes its SQL by it. Queries use "?" bind vars
// through sqlx.Rebind so a PostgreSQL store can share them.
package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open store.
type DB struct {
	w    *sqlx.DB // the single writer
	r    *sqlx.DB // read-only pool
	Path string

	stmtMu       sync.Mutex
	ledgerInsert *sqlx.NamedStmt
}

// Open opens (creating if needed) the database at path and migrates it. It refuses
// a database whose schema is newer than this binary knows.
func Open(ctx context.Context, path string) (*DB, error) {
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
	db := &DB{w: w, Path: path}
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

// Close closes both pools.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != nil {
		if rerr := db.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict ("ok").
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := db.w.GetContext(ctx, &s, "PRAGMA integrity_check")
	return s, err
}

// Ping checks the writer connection.
func (db *DB) Ping(ctx context.Context) error { return db.w.PingContext(ctx) }

// migrate applies the embedded migrations past PRAGMA user_version, each in its
// own transaction together with the version bump.
func (db *DB) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	latest := len(files)
	var current int
	if err := db.w.GetContext(ctx, &current, "PRAGMA user_version"); err != nil {
		return fmt.Errorf("store %s: %w", db.Path, err)
	}
	if current > latest {
		return fmt.Errorf("store %s: schema version %d is newer than this binary's %d; run a newer gateway", db.Path, current, latest)
	}
	for i, f := range files[current:] {
		version := current + i + 1
		if n, _ := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0]); n != version {
			return fmt.Errorf("migration %s: expected number %04d", f, version)
		}
		sqlText, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		tx, err := db.w.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(sqlText)); err != nil {
			tx.Rollback()
			if strings.Contains(err.Error(), "no such module: fts5") {
				return fmt.Errorf("migration %s: %w: build with -tags sqlite_fts5 (the Makefile does)", f, err)
			}
			return fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Version returns the schema version of the open database.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.r.GetContext(ctx, &v, "PRAGMA user_version")
	return v, err
}

// OpenRaw opens the file without migrating, for tools and tests that inspect or
// damage it on purpose.
func OpenRaw(path string) (*sqlx.DB, error) {
	return sqlx.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
}
