// Package app is the composition root: it turns a config into the services every
// endpoint group uses. Only functions/, workers/ and local/ import it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"spass/shared/agent"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/chat"
	"spass/shared/compaction"
	"spass/shared/config"
	"spass/shared/filestore"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/mcpclient"
	"spass/shared/metrics"
	"spass/shared/rag"
	"spass/shared/ratelimit"
	"spass/shared/redact"
	"spass/shared/respcache"
	"spass/shared/router"
	"spass/shared/store"
	"spass/shared/tenantcfg"
	"spass/shared/tools"
	"spass/shared/web"
)

// App holds the gateway's services.
type App struct {
	Config   *config.Config
	Router   *router.Router
	Chat     *chat.Service
	Auth     *auth.Authenticator
	Metrics  *metrics.Metrics
	Store    *store.DB
	Settings *tenantcfg.Service
	Billing  *billing.Service // nil when billing is disabled
	Tools    *tools.Registry
	// MCP is the client of the MCP tool servers in gateway.yaml; nil without any.
	MCP *mcpclient.Manager
	// FileAgents are the /a1 agents read from the agents directory at start.
	FileAgents []agent.Agent
	// Compaction keeps agent sessions within their models' windows.
	Compaction *compaction.Service
	// RAG is retrieval over the tenants' document indices (its tools are in
	// Tools, its rag:index job in JobKinds).
	RAG *rag.Service
	// RateLimit enforces per-tenant and per-user limits (in Redis with REDIS_URL).
	RateLimit *ratelimit.Limiter
	// Redis is the client of REDIS_URL, nil without one (the embedded default).
	Redis   *redis.Client
	Started time.Time
	// Log receives the request lines and the server's events: slog's default (set
	// from cfg.Log by the binaries) unless a test puts its own here before building
	// the handlers.
	Log *slog.Logger

	// Jobs enqueues background jobs: on Redis for the workers with REDIS_URL,
	// else on LocalJobs (see openJobs).
	Jobs jobs.Enqueuer
	// LocalJobs is the in-process runner behind Jobs without Redis, nil with it.
	LocalJobs *jobs.Local
	// Files keeps the bytes of /v1/files under the data dir; Batches is what
	// the batch jobs share (dispatch, lines, finalize, sweep).
	Files   *filestore.Dir
	Batches *jobs.Batches

	closers []func()
}

// Open builds the services for cfg: it opens (and migrates) the SQLite store under
// the data dir and starts the ledger's writer.
func Open(ctx context.Context, cfg *config.Config) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	rt, err := router.Discover(ctx, cfg, backend.NewHTTPClient())
	if err != nil {
		return nil, err
	}
	dsn := filepath.Join(cfg.DataDir, "spass.db")
	if cfg.DatabaseURL != "" {
		dsn = cfg.DatabaseURL
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Router: rt, Store: db, Auth: auth.New(cfg), Started: time.Now(), Log: slog.Default()}
	a.closers = append(a.closers, func() { db.Close() })
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if a.Settings, err = tenantcfg.New(cfg, getenv, db); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = 500*time.Millisecond, time.Second, time.Second
		opt.ContextTimeoutEnabled = true
		a.Redis = redis.NewClient(opt)
		a.closers = append(a.closers, func() { a.Redis.Close() })
	}
	a.Metrics = metrics.New(prometheus.NewRegistry())
	if cfg.RedisURL != "" {
		stop, err := jobs.ExportQueueDepth(a.Metrics, cfg.RedisURL)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.closers = append(a.closers, stop)
	}
	for _, b := range rt.Backends() {
		a.Metrics.Breaker(b.Name, func() float64 { return float64(rt.BreakerState(b.Name)) })
	}
	a.Metrics.Registry().MustRegister(rt.Collectors()...)
	a.closers = append(a.closers, rt.Watch()) // live model discovery (docs/routing.md)
	a.Chat = &chat.Service{Router: rt, FirstByte: cfg.Routing.FirstByteTimeout.Duration,
		Response: cfg.Routing.ResponseTimeout.Duration, Settings: a.Settings}
	a.RateLimit = ratelimit.New(a.Redis)
	a.Chat.Limiter = a.RateLimit
	a.Chat.Cache = respcache.New(a.Redis)
	a.Chat.Images, a.Chat.Prompts = db, db
	a.Chat.Policy = metrics.NewPolicy(a.Metrics.Registry(), redact.KindNames())
	a.RAG = rag.New(db, a.Chat, a.Settings, 0)
	if err := a.registerTools(); err != nil {
		a.Close()
		return nil, err
	}
	a.openMCP()
	if err := a.openAgents(); err != nil {
		a.Close()
		return nil, err
	}
	if !cfg.Billing.Disabled {
		ledger, err := billing.OpenLedger(ctx, db, filepath.Join(cfg.DataDir, "journal"))
		if err != nil {
			a.Close()
			return nil, err
		}
		a.closers = append([]func(){ledger.Close}, a.closers...) // drain before the store closes
		ledger.OnCommit = a.billed
		a.Billing = &billing.Service{Ledger: ledger, Pricer: billing.NewPricer(cfg), Settings: a.Settings}
		a.Chat.Billing = a.Billing
	}
	a.Files = filestore.New(filepath.Join(cfg.DataDir, "files"))
	a.Batches = &jobs.Batches{DB: db, Files: a.Files, Retries: cfg.Batches.MaxRetries,
		Gate: jobs.NewGate(cfg.Batches.Concurrency, cfg.Batches.PerBackend)}
	if err := a.openJobs(); err != nil {
		a.Close()
		return nil, err
	}
	a.RAG.Jobs = a.Jobs // the rag:index kind needed the service first
	return a, nil
}

// registerTools builds the stack tool registry and hands it to the tool loop.
func (a *App) registerTools() error {
	a.Tools = tools.NewRegistry()
	client := &http.Client{Timeout: a.Config.Tools.Timeout.Duration}
	all := tools.General(a.Config.Tools, client, a.ModelCards)
	all = append(all, tools.Memory(a.Store)...)
	all = append(all, tools.ImageGen(a.generateImages))
	all = append(all, rag.Tools(a.RAG)...)
	for _, t := range all {
		if err := a.Tools.Add(t); err != nil {
			return err
		}
	}
	a.Chat.Tools, a.Chat.MaxRounds, a.Chat.ToolTimeout = a.Tools, a.Config.Tools.MaxRounds, a.Config.Tools.Timeout.Duration
	return nil
}

// generateImages is the image_gen tool's way into the image pipeline: images are
// stored, billed as a sub-call of the chat request, and returned as references.
func (a *App) generateImages(ctx context.Context, p tools.Call, prompt, size string, n int) ([]tools.ImageRef, error) {
	opts := chat.Options{Surface: chat.Surface(p.Surface), Ref: p.Ref, Agent: p.Agent, Session: p.Session}
	res, err := a.Chat.GenerateImages(ctx, p.Principal, chat.ImageRequest{Prompt: prompt, Size: size, N: n, SubCall: true}, opts, nil)
	if err != nil {
		return nil, err
	}
	refs := make([]tools.ImageRef, len(res.Images))
	for i, img := range res.Images {
		refs[i] = tools.ImageRef{ID: img.Image.ID, URL: "/v1/images/" + img.Image.ID, Width: img.Image.Width, Height: img.Image.Height, RevisedPrompt: img.RevisedPrompt}
	}
	return refs, nil
}

// ModelCard is what the list_models tool tells a model about another model.
type ModelCard struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	Vision        bool   `json:"vision,omitempty"`
	ContextWindow int    `json:"context_window,omitempty"`
	Tiers         int    `json:"tiers"`
}

// ModelCards lists the models p's tenant may use.
func (a *App) ModelCards(ctx context.Context, p identity.Principal) (any, error) {
	eff, err := a.Settings.Effective(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	out := []ModelCard{}
	for _, m := range a.Router.Models() {
		if eff.ModelAllowed(m.ID) {
			out = append(out, ModelCard{ID: m.ID, Type: m.Type, Vision: m.Vision, ContextWindow: m.ContextWindow, Tiers: len(m.Targets)})
		}
	}
	return out, nil
}

// billed counts committed ledger rows in the metrics.
func (a *App) billed(rows []store.LedgerRow) {
	for i := range rows {
		r := &rows[i]
		a.Metrics.Billed(metrics.Bill{Tenant: r.TenantID, Model: r.Model, Route: r.Route,
			Prompt: r.PromptTokens, Completion: r.CompletionTokens, Cached: r.CachedTokens,
			NanoUSD: r.CostNanoUSD, NanoEUR: r.CostNanoEUR, SubCall: r.ParentRequestID != "", Estimated: r.Estimated})
	}
}

// Middleware wraps a group's handler with request ids, recovery, metrics and the
// request log line.
func (a *App) Middleware(h http.Handler) http.Handler { return web.Middleware(a.Metrics, a.Log, h) }

// ServerLimits are the bounds of the HTTP server loop (gateway.yaml server:), with
// what they cut counted in the metrics.
func (a *App) ServerLimits() web.Limits {
	s := a.Config.Server
	return web.Limits{Idle: s.IdleTimeout.Duration, Body: s.BodyTimeout.Duration,
		MaxConns: s.MaxConns, MaxConnsPerClient: s.MaxConnsPerClient, Observer: a.Metrics,
		Shutdown: s.ShutdownTimeout.Duration, Log: a.Log}
}

// SyncLedger commits every ledger row recorded so far to SQLite, for readers
// that must see all of them; a no-op when billing is disabled.
func (a *App) SyncLedger(ctx context.Context) error {
	if a.Billing == nil {
		return nil
	}
	return a.Billing.Ledger.Sync(ctx)
}

// Close drains the ledger and closes the store.
func (a *App) Close() error {
	for _, c := range a.closers {
		c()
	}
	a.closers = nil
	return nil
}
