// Package metrics defines the gateway's Prometheus instruments on a registry the
// composition root passes in (never the global one), so tests and several gateways
// in one process do not collide.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the instruments.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New registers the gateway's instruments, plus Go and process collectors, on reg.
func New(reg *prometheus.Registry) *Metrics {
	labels := []string{"route", "model", "backend", "status"}
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_requests_total",
			Help: "Requests served, by route pattern, model, backend and HTTP status.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spass_request_duration_seconds",
			Help:    "Time from request to the end of the response, by route, model, backend and status.",
			Buckets: []float64{.0005, .001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, labels),
	}
	reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one finished request.
func (m *Metrics) Observe(route, model, backend string, status int, d time.Duration) {
	s := strconv.Itoa(status)
	m.requests.WithLabelValues(route, model, backend, s).Inc()
	m.latency.WithLabelValues(route, model, backend, s).Observe(d.Seconds())
}

// Breaker exports a backend's breaker state (0 closed, 1 open, 2 half-open), read at
// scrape time so it is never stale.
func (m *Metrics) Breaker(backend string, state func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "spass_backend_breaker_state",
		Help:        "Circuit breaker state per backend: 0 closed, 1 open, 2 half-open.",
		ConstLabels: prometheus.Labels{"backend": backend},
	}, state))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
