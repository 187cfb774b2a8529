package router

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"spass/shared/config"
)

// costFloor is added to the best replica's cost before comparing: replicas whose
// first bytes differ by less are equals. A replica that just prefilled a few long
// uncached prompts answers tens of milliseconds later than one serving cache
// hits without being any slower; moving keys for that would only cost more
// cache misses.
const costFloor = float64(50 * time.Millisecond)

// Reasons a replica is tried first, the reason label of spass_route_choices_total.
const (
	reasonAffinity = "affinity" // the key's replica in rendezvous order, up and not much slower
	reasonLatency  = "latency"  // no key: the fastest, least loaded replicas in turn
	reasonProbe    = "probe"    // a replica that looked slower, to see whether it recovered
)

// balancer orders the backends of one tier of a chain for one request.
type balancer struct {
	slack float64 // see config.Balance.AffinitySlack
	probe float64 // see config.Balance.ProbeShare
	off   bool    // config.Balance.Affinity "off": keys are ignored
	turn  atomic.Uint64

	choices  *prometheus.CounterVec // backend, reason
	affinity *prometheus.CounterVec // result: hit, move
}

func newBalancer(c config.Balance) *balancer {
	return &balancer{slack: max(c.AffinitySlack, 1), probe: c.ProbeShare, off: c.Affinity == "off",
		choices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_route_choices_total",
			Help: "Backends tried first among the replicas of one tier, by backend and reason (affinity, latency, probe).",
		}, []string{"backend", "reason"}),
		affinity: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_affinity_total",
			Help: "Requests with an affinity key, by result: hit (its first replica in rendezvous order served first) or move (it was down or much slower).",
		}, []string{"result"}),
	}
}

// cost is what a backend is expected to make a request wait: its average time
// to first byte, times one plus the requests it serves now; -1 for a backend not
// yet measured, which order then treats as the best one, so it is tried and
// measured without drawing every key at once.
func cost(t Target) float64 {
	l := t.Backend.Load
	if l.Samples() == 0 {
		return -1
	}
	return float64(l.TTFB()) * float64(1+l.InFlight())
}

// order returns g (targets of one tier, in chain order) in the order to try them.
// With key, the first is the key's replica in rendezvous order, skipping replicas
// whose breaker is open and those much slower than the best (config
// AffinitySlack); without, the replicas as fast as the best take turns. A
// ProbeShare of requests goes first to a replica that looks slower instead.
// After the first come the other fit replicas, the slower ones, then those whose
// breaker is open (Do skips them, counting a fallback).
func (b *balancer) order(g []Target, key string) []Target {
	n := len(g)
	if n < 2 {
		return g
	}
	if b.off {
		key = ""
	}
	costs := make([]float64, n)
	best, open := -1, 0
	for i, t := range g {
		costs[i] = cost(t)
		if t.Breaker.State() == Open {
			open++
		} else if costs[i] >= 0 && (best < 0 || costs[i] < costs[best]) {
			best = i
		}
	}
	out := slices.Clone(g)
	if open == n { // Do will say so
		return out
	}
	bestCost := 0.0
	if best >= 0 {
		bestCost = costs[best]
	}
	for i := range costs {
		if costs[i] < 0 {
			costs[i] = bestCost
		}
	}
	limit := bestCost*b.slack + costFloor
	rank := make([]int, n) // 0 fit, 1 slower, 2 breaker open
	for i, t := range g {
		switch {
		case t.Breaker.State() == Open:
			rank[i] = 2
		case costs[i] > limit:
			rank[i] = 1
		}
	}
	// Within a rank: rendezvous order with a key, cost order without.
	var scores []uint64
	if key != "" {
		scores = make([]uint64, n)
		for i, t := range g {
			scores[i] = hrw(key, t.Backend.Name)
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		if rank[x] != rank[y] {
			return rank[x] - rank[y]
		}
		if scores != nil {
			switch {
			case scores[x] > scores[y]:
				return -1
			case scores[x] < scores[y]:
				return 1
			}
			return 0
		}
		switch {
		case costs[x] < costs[y]:
			return -1
		case costs[x] > costs[y]:
			return 1
		}
		return 0
	})
	fit := 0
	for _, i := range idx {
		if rank[i] == 0 {
			fit++
		}
	}
	reason := reasonAffinity
	switch slower := n - fit - open; {
	case slower > 0 && b.probe > 0 && rand.Float64() < b.probe:
		j := fit + rand.IntN(slower) // one of the slower ones goes first
		idx[0], idx[j] = idx[j], idx[0]
		reason = reasonProbe
	case key == "":
		j := int(b.turn.Add(1) % uint64(fit)) // equals take turns
		idx[0], idx[j] = idx[j], idx[0]
		reason = reasonLatency
	}
	for k, i := range idx {
		out[k] = g[i]
	}
	if key != "" {
		b.countAffinity(g, scores, idx[0])
	}
	b.choices.WithLabelValues(out[0].Backend.Name, reason).Inc()
	return out
}

// countAffinity counts a hit when the first tried is the key's first replica in
// rendezvous order among all of the tier (open breakers included), else a move.
func (b *balancer) countAffinity(g []Target, scores []uint64, first int) {
	top := 0
	for i := range g {
		if scores[i] > scores[top] {
			top = i
		}
	}
	if top == first {
		b.affinity.WithLabelValues("hit").Inc()
	} else {
		b.affinity.WithLabelValues("move").Inc()
	}
}

// Collectors returns the router's metrics, for the composition root to register:
// the choices among replicas, the affinity hits and moves, and each backend's
// average time to first byte and requests in flight.
func (r *Router) Collectors() []prometheus.Collector {
	out := []prometheus.Collector{r.bal.choices, r.bal.affinity}
	for _, b := range r.backends {
		l := b.Load
		labels := prometheus.Labels{"backend": b.Name}
		out = append(out,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spass_backend_ttfb_seconds", ConstLabels: labels,
				Help: "Average (EWMA) time to first byte of the backend, as the router balances on it."},
				func() float64 { return l.TTFB().Seconds() }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spass_backend_inflight", ConstLabels: labels,
				Help: "Requests the backend is serving now."},
				func() float64 { return float64(l.InFlight()) }))
	}
	return out
}
