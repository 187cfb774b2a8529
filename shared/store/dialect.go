package store

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"spass/shared/ragdoc"
)

// The few places where the two dialects need different SQL live here, so a
// repository file reads the same for both.

// isUniqueViolation reports whether err is a unique or primary key constraint
// failing, on either database.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// filterClause is the SQL of a metadata filter over documents d: " AND ..." per
// key, in key order. The JSON path or key is a bound parameter, never spliced.
// SQLite compares json_extract's typed value; PostgreSQL compares jsonb values,
// so 2 and 2.0 match on both and "2" matches neither.
func (db *DB) filterClause(f ragdoc.Filter) (string, []any) {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	var args []any
	for _, k := range keys {
		vals := f[k]
		if len(vals) == 0 {
			b.WriteString(` AND 1 = 0`)
			continue
		}
		if db.dialect == Postgres {
			b.WriteString(` AND (d.metadata::jsonb -> ?) IN (CAST(? AS jsonb)` + strings.Repeat(`, CAST(? AS jsonb)`, len(vals)-1) + `)`)
			args = append(args, k)
			for _, v := range vals {
				j, _ := json.Marshal(v)
				args = append(args, string(j))
			}
			continue
		}
		b.WriteString(` AND json_extract(d.metadata, ?) IN (?` + strings.Repeat(`, ?`, len(vals)-1) + `)`)
		args = append(args, `$."`+k+`"`)
		args = append(args, vals...)
	}
	return b.String(), args
}

// tsQuery turns the keyword search's FTS5 expression ("a" OR "b": quoted words
// of letters and digits, see rag.ftsTerms) into PostgreSQL's to_tsquery syntax.
func tsQuery(terms string) string {
	return strings.NewReplacer(`"`, ``, ` OR `, ` | `).Replace(terms)
}
