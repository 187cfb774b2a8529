// Package requestid carries a request's identity in its context, whatever brought
// the request in: the HTTP middleware sets it, a job handler sets it from its task.
// Every ledger row is filed under the id found here, so it lives apart from the
// HTTP package that the chat core and the jobs must not import.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

type key struct{}

// state is a request's identity: its id, and how many ledger rows have claimed it.
type state struct {
	id     string
	claims atomic.Int64
}

// New returns "req_" and 24 hex digits: the first 12 are the milliseconds since
// the Unix epoch, the last 12 random. Ids made later sort later, so the ledger's
// (tenant_id, request_id) index grows at its end instead of at a random page per
// row: a commit of a hundred rows then dirties a few pages of that index, not a
// hundred (the WAL writes them all, and a large ledger's index no longer fits its
// page cache). 48 random bits keep ids of the same millisecond apart.
func New() string {
	return newAt(time.Now())
}

func newAt(t time.Time) string {
	var b [12]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	var s [4 + 2*len(b)]byte
	copy(s[:], "req_")
	hex.Encode(s[4:], b[:])
	return string(s[:])
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, &state{id: id})
}

// From returns the request id in ctx, or "" when there is none.
func From(ctx context.Context) string {
	if st, _ := ctx.Value(key{}).(*state); st != nil {
		return st.id
	}
	return ""
}

// Claim returns the id a call in ctx files its ledger row under, and ctx carrying
// it. The first claim gets the request's own id, so an HTTP request's row carries
// the SPASS-Request-Id the client saw; later claims in the same context (an agent
// turn that also compacts, a job that runs twice) get "<id>-c2", "<id>-c3", so no
// two rows share an id. A context without an id gets a new one.
func Claim(ctx context.Context) (context.Context, string) {
	st, _ := ctx.Value(key{}).(*state)
	if st == nil {
		id := New()
		st = &state{id: id}
		st.claims.Add(1)
		return context.WithValue(ctx, key{}, st), id
	}
	if n := st.claims.Add(1); n > 1 {
		id := st.id + "-c" + strconv.FormatInt(n, 10)
		return With(ctx, id), id
	}
	return ctx, st.id
}
