package router

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"spass/shared/backend"
	"spass/shared/config"
)

// DiscoverTimeout bounds what one round of discovery waits for the backends to
// list and describe their models: a backend that hangs delays the gateway's start
// by this much, once, and a later round by as much, in the background.
const DiscoverTimeout = 5 * time.Second

// describeConcurrency bounds the descriptions in flight: Ollama reads each model's
// file header to answer /api/show, and shares the disk with inference.
const describeConcurrency = 4

// Discover builds the router like New, then asks the backends what the config left
// open. A backend with discover: true (the quick-start backend without MODEL_NAME)
// lists the models to serve beside the configured ones; a backend that describes
// its models (Ollama's /api/show) tells each model's kinds, vision and context
// window where the config did not set them.
//
// It never fails for a backend's sake: one that does not answer within
// DiscoverTimeout leaves its models as configured (its listed ones unserved until
// it lists them), and the log says so. Watch keeps asking.
func Discover(ctx context.Context, c *config.Config, client *http.Client) (*Router, error) {
	r, err := New(c, client)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DiscoverTimeout)
	defer cancel()
	r.describe(ctx, r.base)
	r.Refresh(ctx)
	return r, nil
}

// discovery is what the rounds of discovery remember.
type discovery struct {
	interval time.Duration
	backends []string // discover: true, in config order

	mu      sync.Mutex                  // one round at a time
	details map[string]*backend.Details // by backend + "\x00" + model id; nil: asked, no answer
	failing map[string]bool             // backends whose last list failed, logged once
}

func newDiscovery(c *config.Config) *discovery {
	d := &discovery{interval: c.Routing.DiscoverInterval.Duration,
		details: map[string]*backend.Details{}, failing: map[string]bool{}}
	for _, b := range c.Backends {
		if b.ServeListed {
			d.backends = append(d.backends, b.Name)
		}
	}
	return d
}

// Watch runs Refresh every routing.discover_interval until the returned stop is
// called; it does nothing when no backend discovers or the interval is negative.
func (r *Router) Watch() (stop func()) {
	if len(r.disc.backends) == 0 || r.disc.interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(r.disc.interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				rctx, rcancel := context.WithTimeout(ctx, DiscoverTimeout)
				r.Refresh(rctx)
				rcancel()
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Refresh asks every discovering backend for its models and swaps in a table of
// the configured models plus the listed ones. A model several backends list is
// served by all of them (replicas when they share a tier). A model no backend
// lists any more, or whose backend does not answer, is no longer served: it
// leaves /v1/models and requests for it get model_not_found until it is listed
// again. Configured models always stay.
func (r *Router) Refresh(ctx context.Context) {
	d := r.disc
	if len(d.backends) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	listed := map[string]config.Model{}
	var slugs []string
	for _, name := range d.backends {
		got, err := r.byName[name].ListModels(ctx)
		if err != nil {
			if !d.failing[name] {
				slog.Warn("the backend did not list its models: the models only it lists are unavailable until it does",
					"backend", name, "err", err)
			}
			d.failing[name] = true
			continue
		}
		if d.failing[name] {
			slog.Info("the backend lists its models again", "backend", name)
		}
		delete(d.failing, name)
		for _, l := range got {
			// ":latest" is Ollama's default tag: clients ask for "llama3.1", as with `ollama run`.
			slug := strings.TrimSuffix(l.ID, ":latest")
			if r.base.models[slug] != nil {
				continue
			}
			mc, ok := listed[slug]
			if !ok {
				mc = config.QuickStartModel(slug, name)
				mc.Chain[0].Model, mc.ContextWindow = l.ID, l.ContextWindow
				slugs = append(slugs, slug)
			} else if !slices.ContainsFunc(mc.Chain, func(t config.Target) bool { return t.Backend == name }) {
				mc.Chain = append(mc.Chain, config.Target{Backend: name, Model: l.ID})
				mc.ContextWindow = max(mc.ContextWindow, l.ContextWindow)
			}
			listed[slug] = mc
		}
	}
	t := &table{models: maps.Clone(r.base.models), order: slices.Clone(r.base.order)}
	for _, slug := range slugs {
		if err := r.add(t, listed[slug]); err != nil { // cannot happen: the backends are the router's
			slog.Error("listed model not served", "model", slug, "err", err)
			continue
		}
		t.models[slug].Discovered = true
	}
	r.learnListed(ctx, t, slugs)
	old := r.tab.Load()
	var added, gone []string
	for _, slug := range slugs {
		if old.models[slug] == nil {
			added = append(added, slug)
		}
	}
	for _, slug := range old.order {
		if t.models[slug] == nil {
			gone = append(gone, slug)
		}
	}
	r.tab.Store(t)
	if len(added) > 0 {
		slog.Info("serving the models the backends list", "models", added)
	}
	if len(gone) > 0 {
		slog.Warn("no backend lists these models any more: they are unavailable until one does", "models", gone)
	}
}

// learnListed gives each listed model of t what its backend said of it, asking
// only about models no earlier round asked about.
func (r *Router) learnListed(ctx context.Context, t *table, slugs []string) {
	ask := &table{models: map[string]*Model{}}
	key := func(m *Model) (string, bool) {
		for _, tg := range m.Targets {
			if tg.Backend.CanDescribe() {
				return tg.Backend.Name + "\x00" + tg.Model, true
			}
		}
		return "", false
	}
	for _, slug := range slugs {
		m := t.models[slug]
		if k, ok := key(m); ok {
			if _, asked := r.disc.details[k]; !asked {
				ask.models[slug], ask.order = m, append(ask.order, slug)
			}
		}
	}
	r.describe(ctx, ask) // learns in place, before t is published
	for _, slug := range ask.order {
		k, _ := key(ask.models[slug])
		r.disc.details[k] = ask.models[slug].Details // nil when it did not answer: asked again next round
		if ask.models[slug].Details == nil {
			delete(r.disc.details, k)
		}
	}
	for _, slug := range slugs {
		m := t.models[slug]
		if k, ok := key(m); ok && m.Details == nil && r.disc.details[k] != nil {
			m.learn(*r.disc.details[k])
		}
	}
}

// describe asks, for every model of t, the first backend of its chain that
// describes models, and learns from each answer. t must not be published yet.
func (r *Router) describe(ctx context.Context, t *table) {
	type ask struct {
		m       *Model
		t       Target
		details *backend.Details
		err     error
	}
	var asks []*ask
	for _, id := range t.order {
		m := t.models[id]
		for _, tg := range m.Targets {
			if tg.Backend.CanDescribe() {
				asks = append(asks, &ask{m: m, t: tg})
				break
			}
		}
	}
	sem := make(chan struct{}, describeConcurrency)
	var wg sync.WaitGroup
	for _, a := range asks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := a.t.Backend.Describe(ctx, a.t.Model)
			a.details, a.err = &d, err
		})
	}
	wg.Wait()
	type miss struct {
		models []string
		err    error // the first
	}
	missed := map[string]*miss{} // by backend
	for _, a := range asks {
		if a.err == nil {
			a.m.learn(*a.details)
			continue
		}
		ms := missed[a.t.Backend.Name]
		if ms == nil {
			ms = &miss{err: a.err}
			missed[a.t.Backend.Name] = ms
		}
		ms.models = append(ms.models, a.m.ID)
	}
	for name, ms := range missed {
		slog.Warn("the backend did not describe these models: they are served as configured", "backend", name, "models", ms.models, "err", ms.err)
	}
}

// learn takes what the backend said of m where the config left it open: the kinds
// of a model without a type, the vision of a model the config only named (or one
// the backend says reads images), the context window when none is configured.
func (m *Model) learn(d backend.Details) {
	m.Details = &d
	if m.Kinds != nil {
		var kinds []string
		if d.Has("completion") {
			kinds = append(kinds, "chat")
		}
		if d.Has("embedding") {
			kinds = append(kinds, "embedding")
		}
		if len(kinds) > 0 {
			m.Kinds, m.Type = kinds, kinds[0]
		}
	}
	if len(d.Capabilities) > 0 && (m.Assumed || d.Has("vision")) {
		m.Vision = d.Has("vision")
	}
	if m.ContextWindow == 0 {
		m.ContextWindow = d.ContextWindow
	}
}
