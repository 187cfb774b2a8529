package billing

import (
	"cmp"
	"context"
	"time"

	"spass/shared/store"
	"spass/shared/tenantcfg"
)

// Entry is what the chat pipeline knows about a finished request or sub-call
// (Bill), or about a stream it starts (Begin).
type Entry struct {
	Tenant, User    string
	RequestID       string
	ParentRequestID string // set on sub-calls: tool-loop rounds, embeddings inside RAG
	Route           string // chat, embeddings, images, tool_round, ...
	Surface         string // v1 (when empty), c1, a1, batch
	Ref             string // the conversation, session or batch id
	Agent           string // the agent of an a1 request
	Model           string
	Backend         string
	Tier            int
	Tokens          Tokens
	Status          int
	Latency         time.Duration
	Estimated       bool // usage estimated: the stream ended before the backend reported it
	Free            bool // served without a backend (response cache): tokens recorded, no cost
	// Redaction says the request was redacted before a cloud tier; Redacted
	// counts the distinct values replaced (never the values themselves).
	Redaction bool
	Redacted  int
}

// Service prices entries with the tenant's markup and writes them to the ledger.
type Service struct {
	Ledger   *Ledger
	Pricer   *Pricer
	Settings *tenantcfg.Service
}

// SurfaceBatch is the surface of batch lines (chat.SurfaceBatch), which the
// tenant's billing.batch_discount_percent applies to.
const SurfaceBatch = "batch"

// Bill writes e's ledger row and returns once it is durable (in the journal). It
// settles the request's Begin, if any.
func (s *Service) Bill(ctx context.Context, e Entry) error {
	return s.Ledger.Record(s.row(ctx, e))
}

// Begin journals a streamed request's start and returns once it is durable, for
// a gateway that dies mid-stream: unless Bill settles it with the request's row,
// the request is billed as interrupted (InterruptedStatus, usage estimated) when
// the dead process's journal is replayed. e is what is known when the stream is
// committed to the client: ids, route, model, backend, tier, and Tokens.Prompt
// estimated from the request (Tokens.Completion usually 0). Status and
// Estimated are set here. It costs what Bill costs: one journal append.
func (s *Service) Begin(ctx context.Context, e Entry) error {
	return s.Ledger.Begin(s.row(ctx, e))
}

// row prices e with the tenant's markup, and a batch line's cost with the
// tenant's batch discount after it.
func (s *Service) row(ctx context.Context, e Entry) store.LedgerRow {
	markup, discount := 0.0, 0.0
	if eff, err := s.Settings.Effective(ctx, e.Tenant); err == nil {
		markup = eff.Float(tenantcfg.MarkupPercent)
		if e.Surface == SurfaceBatch {
			discount = eff.Float(tenantcfg.BatchDiscount)
		}
	}
	var c Cost
	if !e.Free {
		c = s.Pricer.Price(e.Model, e.Tokens, markup).Discounted(discount)
	}
	return store.LedgerRow{
		TenantID: e.Tenant, UserID: e.User, RequestID: e.RequestID, ParentRequestID: e.ParentRequestID,
		Route: e.Route, Surface: cmp.Or(e.Surface, "v1"), Ref: e.Ref, Agent: e.Agent, Model: e.Model, Backend: e.Backend, Tier: e.Tier,
		PromptTokens: e.Tokens.Prompt, CompletionTokens: e.Tokens.Completion, CachedTokens: e.Tokens.Cached,
		CostNanoUSD: c.NanoUSD, CostNanoEUR: c.NanoEUR, LatencyMS: e.Latency.Milliseconds(),
		Status: e.Status, Estimated: e.Estimated, Redaction: e.Redaction, Redacted: e.Redacted,
	}
}
