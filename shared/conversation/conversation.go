// Package conversation holds the domain types of /c1: a conversation the gateway
// keeps for a user, and its messages. No I/O: the store and the /c1 handlers share
// these without depending on each other.
package conversation

import "encoding/json"

// Message statuses. A turn's messages are pending while the model answers; they
// become ok with the answer, or failed when the turn fails or is cut, and only ok
// messages are ever sent to a model again.
const (
	StatusPending = "pending"
	StatusOK      = "ok"
	StatusFailed  = "failed"
)

// Conversation is one kept conversation. Model and Provider are what its last
// turn used; SystemPrompt goes first in every turn. Times are unix milliseconds.
type Conversation struct {
	ID           string          `db:"id" json:"id"`
	TenantID     string          `db:"tenant_id" json:"-"`
	UserID       string          `db:"user_id" json:"user"`
	Title        string          `db:"title" json:"title"`
	Metadata     json.RawMessage `db:"metadata" json:"metadata"`
	Model        string          `db:"model" json:"model"`
	Provider     string          `db:"provider" json:"provider,omitempty"`
	SystemPrompt string          `db:"system_prompt" json:"system_prompt,omitempty"`
	Messages     int             `db:"messages" json:"messages"` // ok messages kept
	NextSeq      int64           `db:"next_seq" json:"-"`
	LeaseUntil   int64           `db:"lease_until" json:"-"`
	CreatedAt    int64           `db:"created_at" json:"created_at"`
	UpdatedAt    int64           `db:"updated_at" json:"updated_at"`
}

// Message is one message of a conversation: Body is the OpenAI message object
// (role, content, tool_calls or tool_call_id) as it is sent to a model. Tokens is
// its estimated size, for fitting the history into a model's window.
type Message struct {
	ConversationID string          `db:"conversation_id" json:"-"`
	TenantID       string          `db:"tenant_id" json:"-"`
	Seq            int64           `db:"seq" json:"seq"`
	Turn           string          `db:"turn" json:"turn"` // the request id of the turn that added it
	Role           string          `db:"role" json:"role"`
	Body           json.RawMessage `db:"body" json:"message"`
	Status         string          `db:"status" json:"status"`
	Tokens         int             `db:"tokens" json:"-"`
	CreatedAt      int64           `db:"created_at" json:"created_at"`
}
