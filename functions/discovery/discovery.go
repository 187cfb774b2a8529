// Package discovery serves what needs no token: liveness and readiness probes,
// Prometheus metrics and the machine-readable error catalog.
package discovery

import (
	"net/http"
	"slices"
	"time"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/router"
	"spass/shared/web"
)

// Routes are the patterns this group serves.
var Routes = []string{
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /errors",
}

// New returns the handler for the discovery group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", web.Handle(healthz))
	mux.Handle("GET /readyz", web.Handle(readyz(a.Router)))
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.Handle("GET /errors", web.Handle(errorsCatalog))
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
)

func readyz(rt *router.Router) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rd := assess(rt, rt.Health(r.Context()))
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
