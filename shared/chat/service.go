package chat

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"spass/shared/apierr"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/router"
	"spass/shared/tenantcfg"
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
	Admit(ctx context.Context, p auth.Principal, eff *tenantcfg.Effective, h http.Header) (done func(tokens int64), err error)
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
}

// Complete serves a chat completion: it writes the answer (JSON or SSE) to w and
// returns what happened. An error is returned only when nothing was written yet.
func (s *Service) Complete(ctx context.Context, p auth.Principal, req *Request, w http.ResponseWriter) (Result, error) {
	return s.serve(ctx, p, "chat", req.Model, "chat", req.Needs, int64(len(req.Raw)), w,
		func(ctx context.Context, c *call, t router.Target) error {
			body, err := upstreamBody(req.Raw, req.Model, t.Model, req.Stream && !req.IncludeUsage)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			if req.Stream {
				return c.stream(ctx, t, body, req.IncludeUsage, w)
			}
			return c.buffered(ctx, t, "/chat/completions", body, w)
		}, cacheable(req))
}

// Embed serves /v1/embeddings.
func (s *Service) Embed(ctx context.Context, p auth.Principal, req *EmbeddingsRequest, w http.ResponseWriter) (Result, error) {
	return s.serve(ctx, p, "embeddings", req.Model, "embedding", []backend.Capability{backend.Embeddings}, int64(len(req.Raw)), w,
		func(ctx context.Context, c *call, t router.Target) error {
			body, err := upstreamBody(req.Raw, req.Model, t.Model, false)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			return c.buffered(ctx, t, "/embeddings", body, w)
		}, nil)
}

// serve is the pipeline both routes share: model lookup, tenant policy, rate
// limits, the tier chain with fallback, and billing.
func (s *Service) serve(ctx context.Context, p auth.Principal, route, model, modelType string, needs []backend.Capability,
	size int64, w http.ResponseWriter, try func(context.Context, *call, router.Target) error, raw []byte) (Result, error) {
	m := s.Router.Model(model)
	if m == nil || m.Type != modelType {
		return Result{Model: model}, modelNotFound(model)
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
	c := &call{s: s, ctx: ctx, p: p, route: route, start: time.Now(), res: Result{Model: model}, promptBytes: size}
	if s.Limiter != nil && eff != nil {
		done, err := s.Limiter.Admit(ctx, p, eff, w.Header())
		if err != nil {
			return c.res, err
		}
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
	served, err := s.Router.Do(ctx, m, needs, func(ctx context.Context, t router.Target, fallbacks int) error {
		c.res.Backend, c.res.Tier, c.res.Fallbacks = t.Backend.Name, t.Tier, fallbacks
		return try(ctx, c, t)
	})
	c.res.Fallbacks = served.Fallbacks
	setFallbackHeader(w, served.Fallbacks)
	if err != nil {
		if served.Target.Backend == nil {
			c.res.Backend, c.res.Tier = "", 0
		}
		c.finish(apierr.From(err).Status())
	}
	return c.res, err
}

func modelNotFound(id string) error {
	return apierr.P(apierr.ModelNotFound, "model", fmt.Sprintf("The model %q does not exist or is not served by this gateway.", id))
}

func setServedHeaders(w http.ResponseWriter, t router.Target, fallbacks int) {
	h := w.Header()
	h[HeaderBackend] = []string{t.Backend.Name}
	h[HeaderTier] = []string{"T" + strconv.Itoa(t.Tier)}
	setFallbackHeader(w, fallbacks)
}

func setFallbackHeader(w http.ResponseWriter, n int) {
	w.Header()[HeaderFallbacks] = []string{strconv.Itoa(n)}
}
