// Package router maps a model slug to its ordered chain of backends (tiers T1..T4)
// and keeps a circuit breaker and a cached health state per backend.
package router

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"spass/shared/backend"
	"spass/shared/config"
)

// Target is one backend of a model's chain, with the id the backend knows the model by.
type Target struct {
	Backend *backend.Backend
	Breaker *Breaker
	// Model is the upstream model id; equal to the slug unless configured.
	Model string
	// Tier is 1-based: the backend's configured tier, else its chain position.
	Tier int
}

// Model is a served model slug.
type Model struct {
	config.Model
	Targets []Target
	// Details is what a backend of the chain said of the model (Discover); nil
	// when none said anything.
	Details *backend.Details
	// Discovered marks a model a backend listed rather than the config named.
	Discovered bool
	// replicated: two adjacent targets share a tier, so the router picks
	// among them (balance.go).
	replicated bool
}

// Replicated reports whether some tier of the model has several backends, among
// which the router picks by affinity and latency; the chat core computes an
// affinity key only then.
func (m *Model) Replicated() bool { return m.replicated }

// Serves reports whether the model serves requests of kind ("chat", "embedding",
// "image"): its configured type, or, for a model without one, what its backend
// serves (config.Model.Kinds, narrowed by Discover).
func (m *Model) Serves(kind string) bool {
	if m.Kinds == nil {
		return kind == m.Type
	}
	return slices.Contains(m.Kinds, kind)
}

// Types returns every kind of request the model serves, its Type first.
func (m *Model) Types() []string {
	if m.Kinds == nil {
		return []string{m.Type}
	}
	return m.Kinds
}

// Router resolves model slugs; it is safe for concurrent use. Its table of models
// is swapped whole when discovery learns of models (discover.go); breakers,
// health and the backends' load change in place.
type Router struct {
	tab      atomic.Pointer[table]
	base     *table // the configured models, described at start
	backends []*backend.Backend
	byName   map[string]*backend.Backend
	breakers map[string]*Breaker
	health   *Health
	bal      *balancer
	disc     *discovery
}

// table is one immutable generation of the served models.
type table struct {
	models map[string]*Model
	order  []string // sorted slugs
}

// New builds the router from the configuration.
func New(c *config.Config, client *http.Client) (*Router, error) {
	r := &Router{breakers: map[string]*Breaker{}, byName: map[string]*backend.Backend{}}
	for _, bc := range c.Backends {
		b, err := backend.New(bc, client)
		if err != nil {
			return nil, err
		}
		b.Load.SetAlpha(c.Routing.LatencyAlpha)
		r.byName[b.Name] = b
		r.backends = append(r.backends, b)
		r.breakers[b.Name] = NewBreaker(c.Routing.BreakerFailures, c.Routing.BreakerCooldown.Duration, nil)
	}
	t := &table{models: map[string]*Model{}}
	for _, mc := range c.Models {
		if err := r.add(t, mc); err != nil {
			return nil, err
		}
	}
	r.base = t
	r.tab.Store(t)
	r.health = newHealth(r.backends, c.Routing.HealthTTL.Duration)
	r.bal = newBalancer(c.Routing.Balance)
	r.disc = newDiscovery(c)
	return r, nil
}

// add serves mc along its chain in t.
func (r *Router) add(t *table, mc config.Model) error {
	m := &Model{Model: mc}
	for i, tc := range mc.Chain {
		b := r.byName[tc.Backend]
		if b == nil {
			return fmt.Errorf("model %s: unknown backend %q", mc.ID, tc.Backend)
		}
		tier := b.Tier
		if tier == 0 {
			tier = i + 1
		}
		up := tc.Model
		if up == "" {
			up = mc.ID
		}
		m.Targets = append(m.Targets, Target{Backend: b, Breaker: r.breakers[b.Name], Model: up, Tier: tier})
		if i > 0 && m.Targets[i-1].Tier == tier {
			m.replicated = true
		}
	}
	t.models[mc.ID] = m
	i, _ := slices.BinarySearch(t.order, mc.ID)
	t.order = slices.Insert(t.order, i, mc.ID)
	return nil
}

// Model returns the model for slug, or nil.
func (r *Router) Model(slug string) *Model { return r.tab.Load().models[slug] }

// Models returns every model, sorted by slug.
func (r *Router) Models() []*Model {
	t := r.tab.Load()
	out := make([]*Model, len(t.order))
	for i, id := range t.order {
		out[i] = t.models[id]
	}
	return out
}

// Backend returns the named backend, or nil.
func (r *Router) Backend(name string) *backend.Backend { return r.byName[name] }

// Backends returns every backend in config order.
func (r *Router) Backends() []*backend.Backend { return r.backends }

// BreakerState returns the state of the named backend's breaker.
func (r *Router) BreakerState(name string) BreakerState { return r.breakers[name].State() }

// Health returns the backends' health, probing those whose cached state expired.
func (r *Router) Health(ctx context.Context) map[string]bool { return r.health.Check(ctx) }

// Health caches backend health probes for a TTL so /readyz stays cheap and works
// under Lambda, where no background poller may run between invocations.
type Health struct {
	backends []*backend.Backend
	ttl      time.Duration

	mu      sync.Mutex
	checked time.Time
	state   map[string]bool
}

func newHealth(bs []*backend.Backend, ttl time.Duration) *Health {
	return &Health{backends: bs, ttl: ttl}
}

// Check returns name -> healthy, probing all backends concurrently when stale.
func (h *Health) Check(ctx context.Context) map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != nil && time.Since(h.checked) < h.ttl {
		return h.state
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	state := make(map[string]bool, len(h.backends))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range h.backends {
		wg.Go(func() {
			ok := b.Healthy(ctx)
			mu.Lock()
			state[b.Name] = ok
			mu.Unlock()
		})
	}
	wg.Wait()
	h.state, h.checked = state, time.Now()
	return state
}

// CallsTools reports whether the model can call tools: false only when its backend
// said what the model can do and tools was not among it (Ollama's /api/show), so
// the gateway offers no stack tools a backend would refuse.
func (m *Model) CallsTools() bool {
	d := m.Details
	return d == nil || len(d.Capabilities) == 0 || d.Has("tools")
}
