// Package admin serves gateway operation, for the operator role that no tenant
// token has: Prometheus metrics (/metrics) and per-model counters (/statsz), which
// the metrics role may read too, the asynq queue monitor (asynqmon) at
// /admin/queues, the raw passthrough to a backend (/proxy/{backend}/..., which
// gateway.yaml may open to tenants) and, when enabled, /debug/pprof. Every view
// here spans all tenants, so none is public.
package admin

import (
	"log/slog"
	"net/http"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/identity"
	"spass/shared/web"
)

// Routes are the patterns this group serves.
var Routes = []string{
	"GET /metrics",
	"GET /statsz",
	"/admin/queues/",
	ProxyPattern,
	PprofPath,
}

// QueuesPath is where asynqmon is mounted.
const QueuesPath = "/admin/queues"

// readers may read the counters: the operator and a Prometheus scrape's token.
var readers = []string{identity.RoleOperator, identity.RoleMetrics}

// New returns the handler for the admin group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Auth.RequireOperator(a.Metrics.Handler(), false, readers...))
	mux.Handle("GET /statsz", a.Auth.RequireOperator(web.Handle(statsz(a)), false, readers...))
	mux.Handle("/admin/queues/", sameOrigin(a.Auth.RequireOperator(queues(a.Config.RedisURL), true, identity.RoleOperator)))
	mux.Handle(ProxyPattern, proxy(a))
	mux.Handle(PprofPath, profiler(a))
	return a.Middleware(mux)
}

// queues is asynqmon on the configured Redis, or a catalog error without one.
func queues(redisURL string) http.Handler {
	if redisURL == "" {
		return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
			return apierr.E(apierr.NotConfigured, "Queues run in-process: set REDIS_URL to use asynq workers and this monitor.", nil)
		})
	}
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		slog.Error("asynqmon disabled", "err", err)
		return queues("")
	}
	return asynqmon.New(asynqmon.Options{RootPath: QueuesPath, RedisConnOpt: opt})
}

// sameOrigin refuses state-changing requests that a browser marks as coming from
// another site (Sec-Fetch-Site, else an Origin that is not this host). The monitor
// accepts HTTP Basic auth, which a browser attaches to every request to the
// gateway, so without this a form on any web page could pause or delete queues in
// the name of a logged-in operator. Requests without either header (curl, scripts
// with a bearer token) pass: no browser sends a cross-site write without them.
func sameOrigin(next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return apierr.E(apierr.PermissionDenied, "Cross-site requests may not change the queues; use the monitor's own page.", nil)
	}))
	return p.Handler(next)
}
