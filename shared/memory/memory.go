// Package memory holds the domain types of remembered items: the entries the memory
// tools, /v1/memory and the store share. It has no I/O, so the store can depend on
// it without depending on the tools that use it.
package memory

// Scopes: an end user's own notes, the tenant's shared notes, and an agent's.
const (
	ScopeUser   = "user"
	ScopeTenant = "tenant"
	ScopeAgent  = "agent"
)

// Limits of one entry. Content is bounded so a recall cannot flood the model's
// context, and keys and tags so listings stay readable.
const (
	MaxContent = 16 << 10
	MaxKey     = 128
	MaxTags    = 16
	MaxTag     = 64
)

// Entry is one remembered item. Owner is the end user (scope user), "" (scope
// tenant) or the agent's name (scope agent); Key is unique per tenant, scope and
// owner. Times are unix milliseconds.
type Entry struct {
	ID, Scope, Owner, Key, Content string
	Tags                           []string
	CreatedAt, UpdatedAt           int64
}

// Place is one scope's memory: the scope and its owner, or every owner of the
// scope when AnyOwner is set (all agents).
type Place struct {
	Scope, Owner string
	AnyOwner     bool
}

// Query selects entries from some places, newest first. Text is a
// case-insensitive substring of the key or the content; Key an exact key.
type Query struct {
	Places    []Place
	Text, Key string
	Limit     int
}

// Summary is what one place holds: its entry count and its newest keys.
type Summary struct {
	Place
	Count int
	Keys  []string
}
