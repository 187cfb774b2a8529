package store

import "testing"

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
