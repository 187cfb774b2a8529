// Package response holds the domain type of OpenAI's Responses API as the gateway
// keeps it: a response a client created with store (the default), so that
// GET /v1/responses/{id} returns it and previous_response_id continues from it on
// any backend. No I/O: the store and the /v1 handlers share it.
package response

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
)

// Response is one stored response. Input is the request's input items (each with
// an id) in order; Body is the response object as the client received it, with
// its output items. PreviousID links the conversation it continued. CreatedAt is
// unix seconds, as the API shows it.
type Response struct {
	ID         string          `db:"id"`
	TenantID   string          `db:"tenant_id"`
	UserID     string          `db:"user_id"`
	PreviousID string          `db:"previous_id"`
	Model      string          `db:"model"`
	Status     string          `db:"status"`
	Input      json.RawMessage `db:"input"`
	Body       json.RawMessage `db:"body"`
	CreatedAt  int64           `db:"created_at"`
}

// NewID returns a fresh id with OpenAI's prefix for the kind of object: "resp_"
// for a response, "msg_" for a message item, "fc_" for a function call.
func NewID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
