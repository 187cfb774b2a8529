package requestid

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestClaimGivesEveryCallItsOwnID(t *testing.T) {
	ctx := With(context.Background(), "req_1")
	_, first := Claim(ctx)
	c2, second := Claim(ctx)
	_, third := Claim(ctx)
	if first != "req_1" || second != "req_1-c2" || third != "req_1-c3" {
		t.Fatalf("claims %q %q %q", first, second, third)
	}
	if From(c2) != "req_1-c2" {
		t.Fatalf("a claimed context carries %q", From(c2))
	}
	if _, again := Claim(c2); again != "req_1-c2" {
		t.Fatalf("the first claim in a claimed context is its own id, got %q", again)
	}
	bare, id := Claim(context.Background())
	if !strings.HasPrefix(id, "req_") || len(id) != 28 || From(bare) != id {
		t.Fatalf("a context without an id got %q (carries %q)", id, From(bare))
	}
	if _, next := Claim(bare); next != id+"-c2" {
		t.Fatalf("second claim of a new id: %q", next)
	}
}

// TestNewSortsByTime: an id made in a later millisecond sorts after one made
// earlier (the ledger index grows at its end), and ids of the same millisecond
// differ.
func TestNewSortsByTime(t *testing.T) {
	t0 := time.UnixMilli(1_780_000_000_000)
	a, b := newAt(t0), newAt(t0)
	later := newAt(t0.Add(time.Millisecond))
	if a == b {
		t.Fatalf("two ids of one millisecond are equal: %q", a)
	}
	if !(a < later && b < later) {
		t.Fatalf("ids %q, %q do not sort before the next millisecond's %q", a, b, later)
	}
	if len(a) != 28 || !strings.HasPrefix(a, "req_019e70448800") {
		t.Fatalf("id %q: want req_ and 24 hex digits starting with the time", a)
	}
}
