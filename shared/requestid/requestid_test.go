package requestid

import (
	"context"
	"strings"
	"testing"
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
