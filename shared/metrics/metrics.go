// Package metrics defines the gateway's Prometheus instruments on a registry the
// composition root passes in (never the global one), so tests and several gateways
// in one process do not collide.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the instruments.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	costUSD   *prometheus.CounterVec
	costEUR   *prometheus.CounterVec
	perReq    *prometheus.HistogramVec
	subcalls  *prometheus.CounterVec
	estimated *prometheus.CounterVec
	cuts      *prometheus.CounterVec

	mu     sync.RWMutex
	series map[seriesKey]series // requests and latency children, see Observe

	billedMu sync.Mutex                  // only the ledger's writer calls Billed
	billed   map[billedKey]*billedSeries // token and cost children, see Billed
}

type billedKey struct{ tenant, model string }

// billedSeries is the children Billed adds to for one tenant and model.
type billedSeries struct {
	prompt, completion, cached prometheus.Counter
	usd, eur                   prometheus.Counter
	perReq                     prometheus.Observer
}

// maxSeries bounds the cache of Observe. Model names come from clients; past the
// bound, Observe resolves the children per call as before.
const maxSeries = 4096

type seriesKey struct {
	route, model, backend string
	status                int
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New registers the gateway's instruments, plus Go and process collectors, on reg.
func New(reg *prometheus.Registry) *Metrics {
	labels := []string{"route", "model", "backend", "status"}
	m := &Metrics{
		reg:    reg,
		series: map[seriesKey]series{},
		billed: map[billedKey]*billedSeries{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_requests_total",
			Help: "Requests served, by route pattern, model, backend and HTTP status.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spass_request_duration_seconds",
			Help:    "Time from request to the end of the response, by route, model, backend and status.",
			Buckets: []float64{.0005, .001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, labels),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_tokens_total",
			Help: "Tokens billed, by model and kind (prompt, completion, cached).",
		}, []string{"model", "kind"}),
		costUSD: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_cost_usd_total",
			Help: "Cost billed in USD (markup included), by tenant and model.",
		}, []string{"tenant", "model"}),
		costEUR: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_cost_eur_total",
			Help: "Cost billed in EUR (markup included), by tenant and model.",
		}, []string{"tenant", "model"}),
		perReq: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spass_request_cost_usd",
			Help:    "Cost of one request in USD, by model.",
			Buckets: []float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1},
		}, []string{"model"}),
		subcalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_subcalls_total",
			Help: "Sub-calls billed under a parent request (tool-loop rounds, RAG embeddings), by route.",
		}, []string{"route"}),
		estimated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_usage_estimated_total",
			Help: "Ledger rows whose usage the gateway estimated because the backend never reported it (a stream cut by the client, the backend or a gateway crash), by route.",
		}, []string{"route"}),
		cuts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_server_cuts_total",
			Help: "Connections and requests the HTTP server cut, by reason: client_conn_limit, conn_limit, body_timeout, idle_timeout.",
		}, []string{"reason"}),
	}
	for _, reason := range []string{"client_conn_limit", "conn_limit", "body_timeout", "idle_timeout"} {
		m.cuts.WithLabelValues(reason) // every series from the start, so rate() sees the first cut
	}
	reg.MustRegister(m.requests, m.latency, m.tokens, m.costUSD, m.costEUR, m.perReq, m.subcalls, m.estimated, m.cuts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one finished request. The labelled children are cached: looking
// them up with WithLabelValues hashes and validates four labels twice per request.
func (m *Metrics) Observe(route, model, backend string, status int, d time.Duration) {
	k := seriesKey{route, model, backend, status}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		code := strconv.Itoa(status)
		s = series{m.requests.WithLabelValues(route, model, backend, code), m.latency.WithLabelValues(route, model, backend, code)}
		m.mu.Lock()
		if len(m.series) < maxSeries {
			m.series[k] = s
		}
		m.mu.Unlock()
	}
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
}

// Bill is what the metrics count of one committed ledger row.
type Bill struct {
	Tenant, Model, Route       string
	Prompt, Completion, Cached int64
	NanoUSD, NanoEUR           int64
	SubCall                    bool // a tool round or another sub-call of a request
	// Estimated says the usage is the gateway's estimate, not the backend's
	// report: such answers are counted so that a rise in them (backends that
	// ignore include_usage, crashes mid-stream) is visible.
	Estimated bool
}

// Billed counts committed ledger rows' tokens and cost. The ledger's writer calls
// it after each commit, so the counters follow the ledger and cost the request
// path nothing.
func (m *Metrics) Billed(b Bill) {
	s := m.billedSeries(b.Tenant, b.Model)
	s.prompt.Add(float64(b.Prompt))
	s.completion.Add(float64(b.Completion))
	s.cached.Add(float64(b.Cached))
	usd := float64(b.NanoUSD) / 1e9
	s.usd.Add(usd)
	s.eur.Add(float64(b.NanoEUR) / 1e9)
	s.perReq.Observe(usd)
	if b.SubCall {
		m.subcalls.WithLabelValues(b.Route).Inc()
	}
	if b.Estimated {
		m.estimated.WithLabelValues(b.Route).Inc()
	}
}

// billedSeries returns the children of tenant and model, cached: resolving seven
// of them with WithLabelValues hashes and validates their labels for every row.
// Past maxSeries pairs they are resolved per call.
func (m *Metrics) billedSeries(tenant, model string) *billedSeries {
	k := billedKey{tenant, model}
	m.billedMu.Lock()
	defer m.billedMu.Unlock()
	if s, ok := m.billed[k]; ok {
		return s
	}
	s := &billedSeries{
		prompt:     m.tokens.WithLabelValues(model, "prompt"),
		completion: m.tokens.WithLabelValues(model, "completion"),
		cached:     m.tokens.WithLabelValues(model, "cached"),
		usd:        m.costUSD.WithLabelValues(tenant, model),
		eur:        m.costEUR.WithLabelValues(tenant, model),
		perReq:     m.perReq.WithLabelValues(model),
	}
	if len(m.billed) < maxSeries {
		m.billed[k] = s
	}
	return s
}

// Cut counts one connection or request the HTTP server cut (web.Limits).
func (m *Metrics) Cut(reason string) { m.cuts.WithLabelValues(reason).Inc() }

// Gauge registers a gauge read at scrape time (queue depth and the like).
func (m *Metrics) Gauge(name, help string, labels prometheus.Labels, read func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, read))
}

// Registry exposes the registry for components that bring their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

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
