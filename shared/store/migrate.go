package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// The schema of each dialect: numbered files, the same numbers in both
// directories (migrations/README.md says how to add one).
//
//go:embed migrations/*.sql
var sqliteMigrations embed.FS

//go:embed migrations_pg/*.sql
var postgresMigrations embed.FS

// migrationFiles lists the dialect's migrations in order, checking that their
// numbers run 1, 2, 3, ... without a gap.
func migrationFiles(d Dialect) (fs.FS, []string, error) {
	fsys, pattern := fs.FS(sqliteMigrations), "migrations/*.sql"
	if d == Postgres {
		fsys, pattern = postgresMigrations, "migrations_pg/*.sql"
	}
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	for i, f := range files {
		if n, _ := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0]); n != i+1 {
			return nil, nil, fmt.Errorf("migration %s: expected number %04d", f, i+1)
		}
	}
	return fsys, files, nil
}

// migrate applies the migrations past the stored schema version, each in its own
// transaction together with the version bump. SQLite keeps the version in PRAGMA
// user_version, PostgreSQL in the one-row table schema_version.
func (db *DB) migrate(ctx context.Context) error {
	fsys, files, err := migrationFiles(db.dialect)
	if err != nil {
		return err
	}
	latest := len(files)
	current, err := db.version(ctx, db.w)
	if err != nil {
		return fmt.Errorf("store %s: %w", db.Path, err)
	}
	if current > latest {
		return fmt.Errorf("store %s: schema version %d is newer than this binary's %d; run a newer gateway", db.Path, current, latest)
	}
	for version := current + 1; version <= latest; version++ {
		if err := db.migrateTo(ctx, fsys, files[version-1], version); err != nil {
			return err
		}
	}
	return nil
}

// migrateTo applies one migration in a write transaction, which reads the
// version again first: several hosts starting on one PostgreSQL database wait for
// each other's write lock, and the later ones find the work done.
func (db *DB) migrateTo(ctx context.Context, fsys fs.FS, f string, version int) error {
	sqlText, err := fs.ReadFile(fsys, f)
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		var current int
		if err := tx.GetContext(ctx, &current, `SELECT version FROM schema_version`); err != nil {
			return err
		}
		if current >= version {
			return tx.Commit()
		}
	}
	if _, err := tx.ExecContext(ctx, string(sqlText)); err != nil {
		if strings.Contains(err.Error(), "no such module: fts5") {
			return fmt.Errorf("migration %s: %w: build with -tags sqlite_fts5 (the Makefile does)", f, err)
		}
		return fmt.Errorf("migration %s: %w", f, err)
	}
	bump := fmt.Sprintf("PRAGMA user_version = %d", version)
	if db.dialect == Postgres {
		bump = fmt.Sprintf("UPDATE schema_version SET version = %d", version)
	}
	if _, err := tx.ExecContext(ctx, bump); err != nil {
		return err
	}
	return tx.Commit()
}

// version reads the schema version through q.
func (db *DB) version(ctx context.Context, q *sqlx.DB) (int, error) {
	var v int
	if db.dialect == Postgres {
		err := q.GetContext(ctx, &v, `SELECT version FROM schema_version`)
		return v, err
	}
	err := q.GetContext(ctx, &v, "PRAGMA user_version")
	return v, err
}

// Version returns the schema version of the open database.
func (db *DB) Version(ctx context.Context) (int, error) {
	return db.version(ctx, db.r)
}
