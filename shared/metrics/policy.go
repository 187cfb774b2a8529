package metrics

import "github.com/prometheus/client_golang/prometheus"

// Policy counts what the chat core's data policies did: the context-overflow
// guard and redaction before cloud tiers.
type Policy struct {
	overflow  *prometheus.CounterVec
	redaction *prometheus.CounterVec
}

// Overflow guard outcomes.
const (
	OverflowRejected = "rejected" // answered 400 context_length_exceeded, no backend asked
	OverflowRerouted = "rerouted" // sent to a model of the overflow chain
)

// NewPolicy registers the policy counters on reg, every series seeded at zero
// so that rate() and alerts see the first event.
func NewPolicy(reg prometheus.Registerer, kinds []string) *Policy {
	p := &Policy{
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_overflow_guard_total",
			Help: "Chat requests longer than the model's context window, by outcome: rejected (400 context_length_exceeded before any backend) or rerouted (to the overflow chain).",
		}, []string{"outcome"}),
		redaction: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_redactions_total",
			Help: "Distinct values redacted from requests sent to cloud tiers, by kind (EMAIL, PHONE, CARD, KEY, REDACTED for tenant patterns).",
		}, []string{"kind"}),
	}
	for _, o := range []string{OverflowRejected, OverflowRerouted} {
		p.overflow.WithLabelValues(o)
	}
	for _, k := range kinds {
		p.redaction.WithLabelValues(k)
	}
	reg.MustRegister(p.overflow, p.redaction)
	return p
}

// Overflow counts one request the overflow guard stopped or rerouted.
func (p *Policy) Overflow(outcome string) { p.overflow.WithLabelValues(outcome).Inc() }

// Redacted counts n distinct values of kind redacted from one request.
func (p *Policy) Redacted(kind string, n int) { p.redaction.WithLabelValues(kind).Add(float64(n)) }
