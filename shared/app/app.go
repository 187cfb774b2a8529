// Package app is the composition root: it turns a config into the services every
// endpoint group uses. Only functions/, workers/ and local/ import it.
package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/chat"
	"spass/shared/config"
	"spass/shared/metrics"
	"spass/shared/router"
	"spass/shared/web"
)

// App holds the gateway's services.
type App struct {
	Config  *config.Config
	Router  *router.Router
	Chat    *chat.Service
	Auth    *auth.Authenticator
	Metrics *metrics.Metrics
	Started time.Time
}

// Open builds the services for cfg. It creates the data directory; it starts no
// goroutines, so it suits Lambda as well as the long-running shim.
func Open(ctx context.Context, cfg *config.Config) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	rt, err := router.New(cfg, backend.NewHTTPClient())
	if err != nil {
		return nil, err
	}
	m := metrics.New(prometheus.NewRegistry())
	for _, b := range rt.Backends() {
		m.Breaker(b.Name, func() float64 { return float64(rt.BreakerState(b.Name)) })
	}
	return &App{
		Config:  cfg,
		Router:  rt,
		Chat:    &chat.Service{Router: rt, FirstByte: cfg.Routing.FirstByteTimeout.Duration, Response: cfg.Routing.ResponseTimeout.Duration},
		Auth:    auth.New(cfg),
		Metrics: m,
		Started: time.Now(),
	}, nil
}

// Middleware wraps a group's handler with request ids, recovery and metrics.
func (a *App) Middleware(h http.Handler) http.Handler { return web.Middleware(a.Metrics, h) }

// Close releases the app's resources.
func (a *App) Close() error { return nil }
