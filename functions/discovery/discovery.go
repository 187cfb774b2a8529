// Package discovery serves what needs no token: liveness and readiness probes, the
// machine-readable error catalog, the build's version, the OpenAPI document of every
// mounted route, and the developer portal (docs site, Swagger UI, ReDoc,
// playground). None of it shows tenant data or makes the gateway do more than
// answer; Prometheus metrics and /statsz count per tenant and model, so they are in
// the admin group, behind an operator's token.
package discovery

import (
	"net/http"
	"slices"
	"time"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/docsite"
	"spass/shared/router"
	"spass/shared/web"
)

// Routes are the patterns this group serves. Each one is in openapi/discovery.yaml;
// a test fails when the two disagree.
var Routes = []string{
	"GET /{$}",
	"GET /healthz",
	"GET /readyz",
	"GET /errors",
	"GET /api/version",
	"GET /openapi.json",
	"GET /openapi",
	"GET /redoc",
	"GET /playground",
	"GET /playground/stt",
	"GET /docs",
	"GET /docs/{$}",
	"GET /docs/{page}",
	"GET /assets/{name}",
}

// New returns the handler for the discovery group.
func New(a *app.App) http.Handler {
	v := currentVersion()
	p := newPortal(v)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", web.Handle(root))
	mux.Handle("GET /healthz", web.Handle(healthz))
	mux.Handle("GET /readyz", web.Handle(readyz(a)))
	mux.Handle("GET /errors", web.Handle(errorsCatalog))
	mux.Handle("GET /api/version", web.Handle(apiVersion(v)))
	mux.Handle("GET /openapi.json", web.Handle(p.openAPI))
	mux.Handle("GET /openapi", p.page((*docsite.Site).SwaggerUI))
	mux.Handle("GET /redoc", p.page((*docsite.Site).ReDoc))
	mux.Handle("GET /playground", p.page((*docsite.Site).Playground))
	mux.Handle("GET /playground/stt", p.page((*docsite.Site).PlaygroundSTT))
	mux.Handle("GET /docs", p.page((*docsite.Site).Index))
	mux.Handle("GET /docs/{$}", web.Handle(toDocs))
	mux.Handle("GET /docs/{page}", p.page((*docsite.Site).Page))
	mux.Handle("GET /assets/{name}", p.page((*docsite.Site).Asset))
	return a.Middleware(mux)
}

func healthz(w http.ResponseWriter, r *http.Request) error {
	return web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness is the /readyz body. Reasons are generic words: no hosts, counts or
// component names, since the probe needs no token.
type Readiness struct {
	Status          string   `json:"status"` // ok, degraded or critical
	Ready           bool     `json:"ready"`
	DegradedReasons []string `json:"degraded_reasons"`
	CheckedAt       string   `json:"checked_at"`
}

// Reasons /readyz can give.
const (
	ReasonBackendDown      = "backend_unreachable"
	ReasonCircuitOpen      = "circuit_open"
	ReasonFallbackActive   = "fallback_active"
	ReasonModelUnavailable = "model_unavailable"
	// ReasonQueueUnavailable: the shared store of queues, rate limits and the cache
	// does not answer. Chat keeps serving (limits fail open, jobs wait, the ledger is
	// local), so this degrades but never makes the gateway unready.
	ReasonQueueUnavailable = "queue_unavailable"
	// ReasonMCPUnreachable: an MCP tool server does not answer. Its tools are left
	// out of the tool loop; chat keeps serving, so this never makes the gateway unready.
	ReasonMCPUnreachable = "mcp_server_unreachable"
)

func readyz(a *app.App) web.HandlerFunc {
	var queues *queueProbe
	if a.Redis != nil {
		queues = &queueProbe{rdb: a.Redis, ttl: a.Config.Routing.HealthTTL.Duration}
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		rd := assess(a.Router, a.Router.Health(r.Context()))
		if queues != nil {
			if !queues.Up(r.Context()) {
				rd.DegradedReasons = append(rd.DegradedReasons, ReasonQueueUnavailable)
				if rd.Status == "ok" {
					rd.Status = "degraded"
				}
			}
		}
		if a.MCP != nil && a.MCP.Degraded() {
			rd.DegradedReasons = append(rd.DegradedReasons, ReasonMCPUnreachable)
			if rd.Status == "ok" {
				rd.Status = "degraded"
			}
		}
		status := http.StatusOK
		if !rd.Ready {
			status = http.StatusServiceUnavailable
		}
		return web.JSON(w, status, rd)
	}
}

// assess derives readiness from live health and breaker states: any backend down is
// degraded; a model whose whole chain is down is critical.
func assess(rt *router.Router, healthy map[string]bool) Readiness {
	rd := Readiness{Status: "ok", DegradedReasons: []string{}, CheckedAt: time.Now().UTC().Format(time.RFC3339)}
	add := func(reason string) {
		if !slices.Contains(rd.DegradedReasons, reason) {
			rd.DegradedReasons = append(rd.DegradedReasons, reason)
		}
	}
	up := map[string]bool{}
	for _, b := range rt.Backends() {
		open := rt.BreakerState(b.Name) == router.Open
		up[b.Name] = healthy[b.Name] && !open
		if !healthy[b.Name] {
			add(ReasonBackendDown)
		}
		if open {
			add(ReasonCircuitOpen)
		}
	}
	critical := false
	for _, m := range rt.Models() {
		firstUp, anyUp := false, false
		for i, t := range m.Targets {
			if up[t.Backend.Name] {
				anyUp = true
				firstUp = firstUp || i == 0
			}
		}
		if !anyUp {
			critical = true
			add(ReasonModelUnavailable)
		} else if !firstUp {
			add(ReasonFallbackActive)
		}
	}
	switch {
	case critical:
		rd.Status = "critical"
	case len(rd.DegradedReasons) > 0:
		rd.Status = "degraded"
	}
	rd.Ready = !critical
	return rd
}

func errorsCatalog(w http.ResponseWriter, r *http.Request) error {
	return web.JSON(w, http.StatusOK, map[string]any{"object": "list", "data": apierr.Catalog()})
}
