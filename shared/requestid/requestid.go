// Package requestid carries a request's identity in its context, whatever brought
// the request in: the HTTP middleware sets it, a job handler sets it from its task.
// Every ledger row is filed under the id found here, so it lives apart from the
// HTTP package that the chat core and the jobs must not import.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

type key struct{}

// New returns "req_" and 24 random hex digits.
func New() string {
	var b [12]byte
	rand.Read(b[:])
	var s [4 + 2*len(b)]byte
	copy(s[:], "req_")
	hex.Encode(s[4:], b[:])
	return string(s[:])
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id in ctx, or "" when there is none.
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Ensure returns ctx with a request id, adding a new one when it has none, and the id.
func Ensure(ctx context.Context) (context.Context, string) {
	if id := From(ctx); id != "" {
		return ctx, id
	}
	id := New()
	return With(ctx, id), id
}
