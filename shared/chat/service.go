package chat

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/identity"
	"spass/shared/router"
	"spass/shared/tenantcfg"
	"spass/shared/tools"
)

// Response headers that say how a request was served.
const (
	HeaderBackend   = "SPASS-Backend"
	HeaderTier      = "SPASS-Tier"
	HeaderFallbacks = "SPASS-Fallback-Count"
)

// Usage is the token accounting of one request, as the backend reported it.
type Usage = billing.Tokens

// Result describes how a request was served, for billing and metrics.
type Result struct {
	Model     string
	Backend   string
	Tier      int
	Fallbacks int
	Usage     Usage
	// Interrupted is set when a stream ended early (upstream cut or client gone).
	Interrupted bool
	// Estimated is set when usage was estimated because the backend never sent it.
	Estimated bool
}

// Biller writes a request's ledger row; it returns once the row is durable.
type Biller interface {
	Bill(ctx context.Context, e billing.Entry) error
}

// Limiter admits requests against the tenant's and the user's rate limits. It sets
// its SPASS-RateLimit-* headers on h; done reports the tokens the request used.
type Limiter interface {
	Admit(ctx context.Context, p identity.Principal, eff *tenantcfg.Effective, h http.Header) (done func(tokens int64), err error)
}

// Cache keeps answers to deterministic requests (temperature 0 or a seed), keyed by
// tenant and exact body.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Put(ctx context.Context, key string, body []byte, ttl time.Duration)
}

// HeaderCache says whether an answer came from the response cache: hit or miss.
const HeaderCache = "SPASS-Cache"

// Service runs chat and embeddings requests against the router.
type Service struct {
	Router *router.Router
	// FirstByte bounds the wait for a stream's first event, and the gap between events.
	FirstByte time.Duration
	// Response bounds a non-streamed answer.
	Response time.Duration
	// Settings resolves tenant policy (model allow/blacklist); nil allows everything.
	Settings *tenantcfg.Service
	// Billing writes the ledger; nil disables it.
	Billing Biller
	// Limiter enforces rate limits; nil disables them.
	Limiter Limiter
	// Cache serves repeated deterministic requests; nil disables it.
	Cache Cache
	// Tools are the server-side stack tools; nil disables the tool loop.
	Tools *tools.Registry
	// MaxRounds bounds the tool loop.
	MaxRounds int
	// ToolTimeout bounds one tool execution.
	ToolTimeout time.Duration
	// Prompts resolves SPASS-System-Prompt; Images resolves spass://images/ refs.
	Prompts Prompts
	Images  Images
}

// Complete serves a chat completion: it writes the answer (JSON or SSE) to w and
// returns what happened. An error is returned only when nothing was written yet.
// When the tenant allows stack tools, the tool loop runs them server-side.
func (s *Service) Complete(ctx context.Context, p identity.Principal, req *Request, w http.ResponseWriter) (Result, error) {
	return s.serve(ctx, p, "chat", req.Model, "chat", int64(len(req.Raw)), w, cacheable(req),
		func(ctx context.Context, c *call, m *router.Model) error {
			if !m.Vision && slices.Contains(req.Needs, backend.Vision) {
				return apierr.P(apierr.CapabilityMissing, "messages", fmt.Sprintf("The model %q does not read images; GET /v1/info lists the vision models.", req.Model))
			}
			if stack := s.stackTools(c, req); stack != nil {
				return c.toolLoop(ctx, m, req, stack, w)
			}
			return c.routed(ctx, m, req.Needs, w, func(ctx context.Context, t router.Target) error {
				body, err := upstreamBody(req.Raw, req.Model, t.Model, req.Stream && !req.IncludeUsage)
				if err != nil {
					return apierr.E(apierr.Internal, "", err)
				}
				if req.Stream {
					return c.stream(ctx, t, body, req.IncludeUsage, w)
				}
				return c.buffered(ctx, t, "/chat/completions", body, w)
			})
		})
}

// Embed serves /v1/embeddings.
func (s *Service) Embed(ctx context.Context, p identity.Principal, req *EmbeddingsRequest, w http.ResponseWriter) (Result, error) {
	return s.serve(ctx, p, "embeddings", req.Model, "embedding", int64(len(req.Raw)), w, nil,
		func(ctx context.Context, c *call, m *router.Model) error {
			return c.routed(ctx, m, []backend.Capability{backend.Embeddings}, w, func(ctx context.Context, t router.Target) error {
				body, err := upstreamBody(req.Raw, req.Model, t.Model, false)
				if err != nil {
					return apierr.E(apierr.Internal, "", err)
				}
				return c.buffered(ctx, t, "/embeddings", body, w)
			})
		})
}

// serve is the pipeline every route shares: model lookup, tenant policy, rate
// limits, the response cache, then run (one routed call or the tool loop), and
// billing of a request that failed before anything was written.
func (s *Service) serve(ctx context.Context, p identity.Principal, route, model, modelType string, size int64,
	w http.ResponseWriter, raw []byte, run func(context.Context, *call, *router.Model) error) (Result, error) {
	m := s.Router.Model(model)
	if m == nil || !m.Serves(modelType) {
		return Result{}, modelNotFound(model) // no model label: names a client made up would grow the metrics without bound
	}
	var eff *tenantcfg.Effective
	if s.Settings != nil {
		var err error
		if eff, err = s.Settings.Effective(ctx, p.Tenant); err != nil {
			return Result{Model: model}, err
		}
		if !eff.ModelAllowed(model) {
			return Result{Model: model}, apierr.P(apierr.ModelNotAllowed, "model", fmt.Sprintf("Your tenant may not use the model %q.", model))
		}
	}
	c := &call{s: s, ctx: ctx, p: p, eff: eff, route: route, start: time.Now(), res: Result{Model: model}, promptBytes: size}
	if s.Limiter != nil && eff != nil {
		done, err := s.Limiter.Admit(ctx, p, eff, w.Header())
		if err != nil {
			return c.res, err
		}
		// Counted after the answer was written: the client already has its bytes.
		defer func() { done(c.res.Usage.Prompt + c.res.Usage.Completion) }()
	}
	if raw != nil && s.Cache != nil && eff != nil && eff.Bool(tenantcfg.CacheEnabled) {
		c.cacheKey = cacheKey(p.Tenant, raw)
		c.cacheTTL = time.Duration(eff.Int(tenantcfg.CacheTTL)) * time.Second
		if body, ok := s.Cache.Get(ctx, c.cacheKey); ok {
			return c.res, c.fromCache(body, w)
		}
		w.Header()[HeaderCache] = []string{"miss"}
	}
	err := run(ctx, c, m)
	if err != nil {
		c.finish(apierr.From(err).Status())
	}
	return c.res, err
}

// routed sends one upstream exchange along the model's tier chain.
func (c *call) routed(ctx context.Context, m *router.Model, needs []backend.Capability, w http.ResponseWriter,
	try func(context.Context, router.Target) error) error {
	served, err := c.s.Router.Do(ctx, m, needs, func(ctx context.Context, t router.Target, fallbacks int) error {
		c.res.Backend, c.res.Tier, c.res.Fallbacks = t.Backend.Name, t.Tier, fallbacks
		return try(ctx, t)
	})
	c.res.Fallbacks = served.Fallbacks
	setFallbackHeader(w, served.Fallbacks)
	if err != nil && served.Target.Backend == nil {
		c.res.Backend, c.res.Tier = "", 0
	}
	return err
}

func modelNotFound(id string) error {
	return apierr.P(apierr.ModelNotFound, "model", fmt.Sprintf("The model %q does not exist or is not served by this gateway.", id))
}

// setServedHeaders says which backend and tier served the request. Header values
// the gateway sends on every answer are built once (see headerValues).
func (s *Service) setServedHeaders(w http.ResponseWriter, t router.Target, fallbacks int) {
	h := w.Header()
	h[HeaderBackend] = []string{t.Backend.Name}
	if t.Tier >= 0 && t.Tier < len(tierValues) {
		h[HeaderTier] = tierValues[t.Tier]
	} else {
		h[HeaderTier] = []string{"T" + strconv.Itoa(t.Tier)}
	}
	setFallbackHeader(w, fallbacks)
}

func setFallbackHeader(w http.ResponseWriter, n int) {
	if n >= 0 && n < len(countValues) {
		w.Header()[HeaderFallbacks] = countValues[n]
	} else {
		w.Header()[HeaderFallbacks] = []string{strconv.Itoa(n)}
	}
}

// Shared header values: read-only, and each slice's capacity is its length, so a
// later Header.Add copies rather than writing into them.
var (
	jsonContentType = headerValues("application/json")[0]
	sseHeaders      = headerValues("text/event-stream", "no-cache", "no") // see commitSSE
	tierValues      = headerValues("T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8")
	countValues     = headerValues("0", "1", "2", "3", "4", "5", "6", "7", "8")
)

// headerValues returns a one-value header slice per value.
func headerValues(vs ...string) [][]string {
	out := make([][]string, len(vs))
	for i, v := range vs {
		out[i] = []string{v}
	}
	return out
}
