package store

import (
	"path"
	"testing"
)

func TestDollars(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b IN (?, ?)`, `a = $1 AND b IN ($2, $3)`},
		{`x = '?' AND y = ? -- why?` + "\n" + `AND z = ?`, `x = '?' AND y = $1 -- why?` + "\n" + `AND z = $2`},
		{`"we?ird" = ? /* ? */ AND $$ ? $$ = ?`, `"we?ird" = $1 /* ? */ AND $$ ? $$ = $2`},
		{`it''s = ?`, `it''s = $1`},
		{`a = $1`, `a = $1`},
	} {
		if got := dollars(c.in); got != c.want {
			t.Errorf("dollars(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestMigrationsAgree: both dialects have the same migrations, file for file, so
// a database of either reaches the same version with the same binary.
func TestMigrationsAgree(t *testing.T) {
	_, lite, err := migrationFiles(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	_, pg, err := migrationFiles(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones (see migrations/README.md)", len(lite), len(pg))
	}
	for i := range lite {
		if path.Base(lite[i]) != path.Base(pg[i]) {
			t.Errorf("migration %d: %s on SQLite, %s on PostgreSQL", i+1, path.Base(lite[i]), path.Base(pg[i]))
		}
	}
}
