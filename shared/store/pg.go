package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// writeLockKey is the advisory lock every PostgreSQL write transaction takes at
// BEGIN ("spass-w" in ASCII): the equivalent of SQLite's BEGIN IMMEDIATE, so the
// store's read-then-write transactions (next sequence numbers, counts under a
// limit) behave the same on one host or several. Single statements outside a
// transaction do not take it.
const writeLockKey int64 = 0x7370617373_2d77

// openPostgres opens one pool on the database at dsn (pgx through database/sql,
// so sqlx works unchanged) and migrates it.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	sqldb := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	n := max(8, runtime.NumCPU()*4)
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	x := sqlx.NewDb(sqldb, "pgx") // sqlx.Rebind turns ? into $1; pgConn does it for the rest
	db := &DB{w: x, r: x, dialect: Postgres, Path: redact(dsn)}
	if err := db.bootstrapPostgres(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("store %s: %w", db.Path, err)
	}
	if err := db.migrate(ctx); err != nil {
		x.Close()
		return nil, err
	}
	return db, nil
}

// bootstrapPostgres creates the schema_version table a new database lacks.
func (db *DB) bootstrapPostgres(ctx context.Context) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
		INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)`); err != nil {
		return err
	}
	return tx.Commit()
}

// redact drops the password from a database URL, for logs and errors.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://?"
	}
	return u.Redacted()
}

// pgConnector hands out pgConns.
type pgConnector struct{ base driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{cn.(*stdlib.Conn)}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.base.Driver() }

// pgConn is pgx's database/sql connection with what makes SQL written for SQLite
// run here: "?" bind vars become $1, $2, ... (so a query that skipped
// sqlx.Rebind still works), Go booleans are sent as the integers 0 and 1 the
// schema stores them as, and a write transaction takes writeLockKey.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, dollars(query))
	if err != nil {
		return nil, err
	}
	return pgStmt{st.(*stdlib.Stmt)}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, dollars(query), intBools(args))
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return textBytes(c.Conn.QueryContext(ctx, dollars(query), intBools(args)))
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || opts.ReadOnly {
		return tx, err
	}
	if _, err := c.Conn.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, []driver.NamedValue{{Ordinal: 1, Value: writeLockKey}}); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// pgStmt is a prepared statement that sends booleans as integers too.
type pgStmt struct{ *stdlib.Stmt }

func (s pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.ExecContext(ctx, intBools(args))
}

func (s pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return textBytes(s.Stmt.QueryContext(ctx, intBools(args)))
}

// pgRows hands text values over as bytes, as SQLite does for what was bound as
// bytes: a string does not scan into a json.RawMessage, bytes scan into both.
type pgRows struct{ *stdlib.Rows }

func textBytes(rows driver.Rows, err error) (driver.Rows, error) {
	if err != nil {
		return nil, err
	}
	return pgRows{rows.(*stdlib.Rows)}, nil
}

func (r pgRows) Next(dest []driver.Value) error {
	if err := r.Rows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		if s, ok := v.(string); ok {
			dest[i] = []byte(s)
		}
	}
	return nil
}

// intBools replaces bool arguments by 0 and 1: booleans are INTEGER columns in
// both dialects, and database/sql reads 0 and 1 back into a bool.
func intBools(args []driver.NamedValue) []driver.NamedValue {
	for i := range args {
		if b, ok := args[i].Value.(bool); ok {
			args[i].Value = int64(0)
			if b {
				args[i].Value = int64(1)
			}
		}
	}
	return args
}

// dollars numbers the "?" bind vars of query as $1, $2, ..., leaving string
// literals, quoted identifiers, comments and dollar-quoted bodies alone. A query
// already in $n form passes unchanged.
func dollars(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		end := -1 // the end of a span copied as it is
		switch {
		case c == '\'' || c == '"':
			if j := strings.IndexByte(query[i+1:], c); j >= 0 {
				end = i + 1 + j + 1
			}
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			if j := strings.IndexByte(query[i:], '\n'); j >= 0 {
				end = i + j
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			if j := strings.Index(query[i+2:], "*/"); j >= 0 {
				end = i + 2 + j + 2
			}
		case c == '$' && strings.HasPrefix(query[i:], "$$"):
			if j := strings.Index(query[i+2:], "$$"); j >= 0 {
				end = i + 2 + j + 2
			}
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		if end < 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(query[i:end])
		i = end - 1
	}
	return b.String()
}
