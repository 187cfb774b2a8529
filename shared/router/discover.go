package router

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"spass/shared/backend"
	"spass/shared/config"
)

// DiscoverTimeout bounds what startup waits for the backends to list and describe
// their models: a backend that hangs delays the gateway's start by this much, once.
const DiscoverTimeout = 5 * time.Second

// describeConcurrency bounds the descriptions in flight: Ollama reads each model's
// file header to answer /api/show, and shares the disk with inference.
const describeConcurrency = 4

// Discover builds the router like New, then asks the backends what the config left
// open. A quick-start backend without MODEL_NAME lists the models to serve; a
// backend that describes its models (Ollama's /api/show) tells each model's kinds,
// vision and context window where the config did not set them.
//
// It never fails for a backend's sake: one that does not answer within
// DiscoverTimeout leaves its models as configured (the listed ones unserved until a
// restart), and the log says so. What it learned is fixed for the process, as the
// rest of the configuration is.
func Discover(ctx context.Context, c *config.Config, client *http.Client) (*Router, error) {
	r, err := New(c, client)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DiscoverTimeout)
	defer cancel()
	for _, bc := range c.Backends {
		if bc.ServeListed {
			r.serveListed(ctx, bc.Name)
		}
	}
	r.describe(ctx)
	return r, nil
}

// serveListed serves every model the named backend lists and the config does not
// already name, as a quick-start model.
func (r *Router) serveListed(ctx context.Context, name string) {
	byName := make(map[string]*backend.Backend, len(r.backends))
	for _, b := range r.backends {
		byName[b.Name] = b
	}
	listed, err := byName[name].ListModels(ctx)
	if err != nil {
		slog.Warn("the backend did not list its models: none of them is served until a restart (MODEL_NAME names them without asking)",
			"backend", name, "err", err)
		return
	}
	var ids []string
	for _, l := range listed {
		// ":latest" is Ollama's default tag: clients ask for "llama3.1", as with `ollama run`.
		slug := strings.TrimSuffix(l.ID, ":latest")
		if r.models[slug] != nil {
			continue
		}
		mc := config.QuickStartModel(slug, name)
		mc.Chain[0].Model, mc.ContextWindow = l.ID, l.ContextWindow
		if err := r.add(mc, byName); err != nil { // cannot happen: the backend is the router's
			slog.Error("listed model not served", "model", slug, "err", err)
			continue
		}
		ids = append(ids, slug)
	}
	slog.Info("serving the models the backend lists", "backend", name, "models", ids)
}

// describe asks, for every model, the first backend of its chain that describes
// models, and learns from each answer.
func (r *Router) describe(ctx context.Context) {
	type ask struct {
		m       *Model
		t       Target
		details *backend.Details
		err     error
	}
	var asks []*ask
	for _, id := range r.order {
		m := r.models[id]
		for _, t := range m.Targets {
			if t.Backend.CanDescribe() {
				asks = append(asks, &ask{m: m, t: t})
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
