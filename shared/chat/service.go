package chat

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/identity"
	"spass/shared/requestid"
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

// Result says what a request produced and how it was served: the assistant's
// reply (Reply), the usage of every round together, and who served it.
type Result struct {
	// RequestID files the request's ledger rows; sub-calls get ids of their own.
	RequestID string
	Model     string
	Backend   string
	Tier      int
	Fallbacks int
	// Usage is the token accounting of every model round of the request.
	Usage Usage
	// Interrupted is set when a stream ended early (upstream cut or client gone).
	Interrupted bool
	// Estimated is set when usage was estimated because the backend never sent it.
	Estimated bool
	// Cached is set when the answer came from the response cache.
	Cached bool

	answer []byte     // a JSON answer as delivered
	events transcript // a stream's events as delivered
}

// Reply returns the assistant message the receiver got: parsed from the JSON
// answer, or assembled from the stream's events (every text delta, every tool
// call the client saw); empty for a stream run with Options.NoReply.
func (r *Result) Reply() Reply {
	if r.answer != nil {
		return replyOf(r.answer)
	}
	return r.events.reply()
}

// Biller writes a request's ledger row; it returns once the row is durable. Begin
// journals a stream's start, so a stream cut by a crash is still billed (settled
// as interrupted, estimated, on recovery); the request's Bill settles it.
type Biller interface {
	Bill(ctx context.Context, e billing.Entry) error
}

// Beginner is the optional part of a Biller that journals stream starts.
type Beginner interface {
	Begin(ctx context.Context, e billing.Entry) error
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
	// Policy counts the overflow guard's and redaction's work; nil counts nothing.
	Policy PolicyCounter

	rules sync.Map // compiled redaction rules by tenant patterns (see startRedaction)
}

// Complete runs a chat completion through the pipeline (policy, rate limits, cache,
// tool selection, routing with fallback, the tool loop, billing) and delivers the
// answer to sink. An error is returned only when nothing was delivered yet; after
// the first byte, failures reach the receiver in-band and the result says so.
func (s *Service) Complete(ctx context.Context, p identity.Principal, req *Request, opts Options, sink Sink) (Result, error) {
	if err := req.prepend(opts.History); err != nil {
		return Result{Model: req.Model}, err
	}
	return s.serve(ctx, p, &opts, "chat", req.Model, "chat", int64(len(req.Raw)), sink, cacheable(req),
		func(ctx context.Context, c *call, m *router.Model) error {
			m, err := c.admit(m, req, "messages")
			if err != nil {
				return err
			}
			if stack := s.stackTools(c, req); stack != nil && m.CallsTools() {
				return c.toolLoop(ctx, m, req, stack)
			}
			return c.routed(ctx, m, req.Needs, func(ctx context.Context, t router.Target) error {
				return c.sendChat(ctx, t, req)
			})
		})
}

// admit runs the data policies every chat-shaped request meets before it is
// routed, whichever surface sent it: the context-window guard, which may pick
// the model's overflow model (fit), and the image check. param names the
// request's field that holds the prompt, for the errors. It returns the model
// that serves req.
func (c *call) admit(m *router.Model, req *Request, param string) (*router.Model, error) {
	c.req = req
	m, err := c.fit(m, req, param)
	if err != nil {
		return nil, err
	}
	if err := readsImages(m, req, param); err != nil {
		return nil, err
	}
	return m, nil
}

// readsImages refuses a request with images for a model that cannot read them;
// param names the request's field that holds them.
func readsImages(m *router.Model, req *Request, param string) error {
	if !m.Vision && slices.Contains(req.Needs, backend.Vision) {
		return apierr.P(apierr.CapabilityMissing, param, "The model "+apierr.Quote(req.Model)+" does not read images; GET /v1/info lists the vision models.")
	}
	return nil
}

// sendChat sends req's chat form to t, redacted when t is a cloud tier and the
// tenant asks for it (outbound), and delivers the answer: as a stream when req
// asks for one, else buffered. Either way the answer is restored on its way to
// the sink (see redaction).
func (c *call) sendChat(ctx context.Context, t router.Target, req *Request) error {
	body, err := upstreamBody(req, t.Model)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	if body, err = c.outbound(t, body); err != nil {
		return err
	}
	if req.Stream {
		return c.stream(ctx, t, body, req.IncludeUsage)
	}
	return c.buffered(ctx, t, "/chat/completions", body)
}

// Embed runs an embeddings request through the same pipeline.
func (s *Service) Embed(ctx context.Context, p identity.Principal, req *EmbeddingsRequest, opts Options, sink Sink) (Result, error) {
	return s.serve(ctx, p, &opts, "embeddings", req.Model, "embedding", int64(len(req.Raw)), sink, nil,
		func(ctx context.Context, c *call, m *router.Model) error {
			return c.routed(ctx, m, []backend.Capability{backend.Embeddings}, func(ctx context.Context, t router.Target) error {
				body, err := upstreamModel(req.Raw, req.Model, t.Model)
				if err != nil {
					return apierr.E(apierr.Internal, "", err)
				}
				return c.buffered(ctx, t, "/embeddings", body)
			})
		})
}

// serve is the pipeline every route shares: model lookup, tenant policy, rate
// limits, the response cache, then run (one routed call or the tool loop), and
// billing of a request that failed before anything was delivered.
func (s *Service) serve(ctx context.Context, p identity.Principal, opts *Options, route, model, modelType string, size int64,
	sink Sink, raw []byte, run func(context.Context, *call, *router.Model) error) (Result, error) {
	ctx, id := requestid.Claim(ctx)
	m := s.Router.Model(model)
	if m == nil || !m.Serves(modelType) {
		return Result{RequestID: id}, ModelNotFound(model) // no model label: names a client made up would grow the metrics without bound
	}
	var eff *tenantcfg.Effective
	if s.Settings != nil {
		var err error
		if eff, err = s.Settings.Effective(ctx, p.Tenant); err != nil {
			return Result{RequestID: id, Model: model}, err
		}
		if !eff.ModelAllowed(model) {
			return Result{RequestID: id, Model: model}, apierr.P(apierr.ModelNotAllowed, "model", "Your tenant may not use the model "+apierr.Quote(model)+".")
		}
	}
	c := &call{s: s, ctx: ctx, p: p, eff: eff, opts: opts, sink: sink, route: route, start: time.Now(),
		res: Result{RequestID: id, Model: model}, promptBytes: size}
	if err := c.startRedaction(); err != nil {
		return c.res, err
	}
	// Batch lines are paced by the batch concurrency (Options.Gate), not by the
	// per-minute limits: counted there, a batch would spend the budget of the
	// tenant's interactive requests.
	if s.Limiter != nil && eff != nil && opts.surface() != SurfaceBatch {
		done, err := s.Limiter.Admit(ctx, p, eff, sink.Header())
		if err != nil {
			return c.res, err
		}
		// Counted after the answer was delivered, every round of a tool loop included.
		defer func() { done(c.res.Usage.Prompt + c.res.Usage.Completion) }()
	}
	if raw != nil && s.Cache != nil && eff != nil && eff.Bool(tenantcfg.CacheEnabled) {
		c.cacheKey = cacheKey(p.Tenant, raw)
		c.cacheTTL = time.Duration(eff.Int(tenantcfg.CacheTTL)) * time.Second
		if body, ok := s.Cache.Get(ctx, c.cacheKey); ok {
			return c.res, c.fromCache(body)
		}
		sink.Header()[HeaderCache] = []string{"miss"}
	}
	err := run(ctx, c, m)
	c.endRedaction()
	if err != nil {
		c.finish(apierr.From(err).Status())
	}
	return c.res, err
}

// routed sends one upstream exchange along the model's tier chain.
func (c *call) routed(ctx context.Context, m *router.Model, needs []backend.Capability,
	try func(context.Context, router.Target) error) error {
	if m.Replicated() {
		ctx = router.WithAffinity(ctx, c.affinity()) // affinity.go
	}
	served, err := c.s.Router.Do(ctx, m, needs, c.opts.Filter, func(ctx context.Context, t router.Target, fallbacks int) error {
		c.res.Backend, c.res.Tier, c.res.Fallbacks = t.Backend.Name, t.Tier, fallbacks
		if c.opts.Gate != nil {
			release, err := c.opts.Gate(ctx, t.Backend.Name)
			if err != nil {
				return err
			}
			defer release()
		}
		return try(ctx, t)
	})
	c.res.Fallbacks = served.Fallbacks
	setFallbackHeader(c.sink.Header(), served.Fallbacks)
	if err != nil && served.Target.Backend == nil {
		c.res.Backend, c.res.Tier = "", 0
	}
	return err
}

// ModelNotFound is the catalog error for a model the gateway does not serve.
func ModelNotFound(id string) error {
	return apierr.P(apierr.ModelNotFound, "model", "The model "+apierr.Quote(id)+" does not exist or is not served by this gateway.")
}

// setServedHeaders says which backend and tier served the request. Header values
// the gateway sends on every answer are built once (see headerValues).
func setServedHeaders(h http.Header, t router.Target, fallbacks int) {
	h[HeaderBackend] = []string{t.Backend.Name}
	if t.Tier >= 0 && t.Tier < len(tierValues) {
		h[HeaderTier] = tierValues[t.Tier]
	} else {
		h[HeaderTier] = []string{"T" + strconv.Itoa(t.Tier)}
	}
	setFallbackHeader(h, fallbacks)
}

func setFallbackHeader(h http.Header, n int) {
	if n >= 0 && n < len(countValues) {
		h[HeaderFallbacks] = countValues[n]
	} else {
		h[HeaderFallbacks] = []string{strconv.Itoa(n)}
	}
}

// Shared header values: read-only, and each slice's capacity is its length, so a
// later Header.Add copies rather than writing into them.
var (
	jsonContentType = headerValues("application/json")[0]
	sseHeaders      = headerValues("text/event-stream", "no-cache", "no") // see httpSink.Events
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
