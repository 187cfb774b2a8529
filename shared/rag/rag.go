// Package rag is retrieval over a tenant's own documents: named indices of
// documents (text, Markdown, HTML) that a rag:index job chunks and embeds through
// the chat core (billed to the tenant), and hybrid search over them — SQLite FTS5
// for keywords, cosine similarity over the chunk embeddings scored in Go, fused by
// reciprocal rank. HTTP (functions/rag), the stack tools (Tools) and passive RAG
// in agent turns (Passages) all go through Service, so a model can never do more
// than its caller could over HTTP.
package rag

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
	"unicode/utf8"

	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/store"
	"spass/shared/tenantcfg"
)

// Limits of indices and documents.
const (
	MaxIndices       = 100     // per tenant
	MaxDocumentBytes = 1 << 20 // of content
	MaxTitle         = 512     // bytes
	MaxMetadataKeys  = 32
	MaxMetadataValue = 1024 // bytes of a string value
	MaxQuery         = 4096 // bytes
	MaxTopK          = 50

	DefaultChunkSize    = 1000 // characters
	DefaultChunkOverlap = 150
	MinChunkSize        = 100
	MaxChunkSize        = 8000
	DefaultTopK         = 5

	// embedBatch is how many chunks go in one embeddings request.
	embedBatch = 32
	// presenceTTL is how long "this tenant has an index" is believed: rag_query's
	// offer is decided on every chat request, so it must not cost a query each.
	presenceTTL = 5 * time.Second
)

// DefaultConfirmTTL is how long a confirmation token of a destructive tool lives.
const DefaultConfirmTTL = 10 * time.Minute

// Service is the RAG feature. Build it with New; Jobs is set once the app's job
// runner exists (the rag:index kind needs the service first).
type Service struct {
	Store    *store.DB
	Chat     *chat.Service
	Settings *tenantcfg.Service
	Jobs     jobs.Enqueuer
	// ConfirmTTL bounds confirmation tokens; Now is the clock they are read by
	// (tests move it).
	ConfirmTTL time.Duration
	Now        func() time.Time

	vectors  *vectorCache
	presence sync.Map // tenant -> presenceEntry
}

type presenceEntry struct {
	has bool
	at  time.Time
}

// New returns the service over the store and the chat core; vectorBudget bounds
// the memory of cached embeddings (0: DefaultVectorBudget).
func New(db *store.DB, c *chat.Service, settings *tenantcfg.Service, vectorBudget int64) *Service {
	if vectorBudget <= 0 {
		vectorBudget = DefaultVectorBudget
	}
	return &Service{Store: db, Chat: c, Settings: settings, ConfirmTTL: DefaultConfirmTTL, Now: time.Now,
		vectors: newVectorCache(vectorBudget, db.RAGVectors)}
}

// HasIndex reports whether the tenant has an index, from a cache of a few
// seconds: rag_query is offered only then, and the offer is decided on every chat
// request. Writes in this process update it at once; other processes see them
// within presenceTTL. An error reads as no index (nothing is offered).
func (s *Service) HasIndex(ctx context.Context, tenant string) bool {
	if e, ok := s.presence.Load(tenant); ok && time.Since(e.(presenceEntry).at) < presenceTTL {
		return e.(presenceEntry).has
	}
	has, err := s.Store.HasRAGIndex(ctx, tenant)
	if err != nil {
		return false
	}
	s.presence.Store(tenant, presenceEntry{has: has, at: time.Now()})
	return has
}

// forgetPresence drops the cached answer after the tenant's indices changed.
func (s *Service) forgetPresence(tenant string) { s.presence.Delete(tenant) }

// canWrite reports whether p may change documents: every role but read-only.
func canWrite(p identity.Principal) bool { return p.Role != identity.RoleReadOnly }

// canManage reports whether p may create and delete indices: the tenant's admins.
func canManage(p identity.Principal) bool { return p.CanWrite() }

// newDocumentID returns "doc_" and 24 random hex digits.
func newDocumentID() string {
	var b [12]byte
	rand.Read(b[:])
	return "doc_" + hex.EncodeToString(b[:])
}

// clipBytes cuts s to at most n bytes on a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
