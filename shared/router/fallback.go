package router

import (
	"context"
	"errors"
	"strings"
	"time"

	"spass/shared/apierr"
	"spass/shared/backend"
)

// Failure is an attempt's outcome that allows the next tier to try: a connect error,
// a timeout before the first byte, a 5xx or a 429. Nothing reached the client yet.
type Failure struct {
	Status     int  // upstream status; 0 for transport errors
	Timeout    bool // no first byte in time
	RetryAfter int  // seconds, from a 429
	// Healthy marks failures that say nothing bad about the backend (404, 401, 429),
	// so they do not count towards its breaker.
	Healthy bool
	Cause   error
}

func (f *Failure) Error() string {
	if f.Cause != nil {
		return f.Cause.Error()
	}
	return "upstream failure"
}

// Served says which target answered and after how many fallbacks.
type Served struct {
	Target    Target
	Fallbacks int
}

// Attempt tries one target. It returns nil when the response was delivered (even if
// a stream was cut after the first byte: that is reported to the client in-band), a
// *Failure to fall back, or any other error to stop.
type Attempt func(ctx context.Context, t Target, fallbacks int) error

// Do runs try over the model's chain in order, skipping targets the filter drops,
// that lack a needed capability or whose breaker is open, and falls back on *Failure.
// Among the targets of one tier (replicas) it tries first the one the request's
// affinity key (WithAffinity) and the backends' observed latency and load choose
// (balance.go); the order across tiers stays the chain's.
func (r *Router) Do(ctx context.Context, m *Model, needs []backend.Capability, f Filter, try Attempt) (Served, error) {
	var last *Failure
	fallbacks := 0
	all429 := true
	var buf [8]Target
	chain := buf[:0]
	for _, t := range m.Targets {
		if canAll(t.Backend, needs) && f.allows(t) {
			chain = append(chain, t)
		}
	}
	capable := len(chain)
	for len(chain) > 0 {
		n := 1
		for n < len(chain) && chain[n].Tier == chain[0].Tier {
			n++
		}
		group := chain[:n]
		if n > 1 {
			group = r.bal.order(group, Affinity(ctx))
		}
		chain = chain[n:]
		for _, t := range group {
			if !t.Breaker.Allow() {
				fallbacks++
				all429 = false
				continue
			}
			start := time.Now()
			t.Backend.Load.Begin()
			err := try(ctx, t, fallbacks)
			t.Backend.Load.End()
			var f *Failure
			switch {
			case err == nil:
				t.Breaker.Success()
				return Served{Target: t, Fallbacks: fallbacks}, nil
			case ctx.Err() != nil: // the client went away: nothing to learn about the backend
				t.Breaker.Release()
				return Served{Target: t, Fallbacks: fallbacks}, ctx.Err()
			case errors.As(err, &f):
				if f.Healthy {
					t.Breaker.Release()
				} else {
					t.Breaker.Failure()
				}
				if f.Timeout { // no first byte in time: at least this slow
					t.Backend.Load.Observe(time.Since(start))
				}
				if f.Status != 429 {
					all429 = false
				}
				last = f
				fallbacks++
			default:
				t.Breaker.Success() // it answered; the request was at fault
				return Served{Target: t, Fallbacks: fallbacks}, err
			}
		}
	}
	if capable == 0 {
		if !f.IsZero() {
			return Served{Fallbacks: fallbacks}, apierr.E(apierr.CapabilityMissing,
				"No backend serving "+m.ID+" matches the provider choice and supports "+capNames(needs)+".", nil)
		}
		return Served{Fallbacks: fallbacks}, apierr.E(apierr.CapabilityMissing,
			"No backend serving "+m.ID+" supports "+capNames(needs)+".", nil)
	}
	return Served{Fallbacks: fallbacks}, exhausted(last, all429)
}

// exhausted maps the last failure of a fully failed chain to a catalog error.
func exhausted(last *Failure, all429 bool) error {
	switch {
	case last == nil:
		return apierr.E(apierr.UpstreamUnavailable, "", errors.New("every breaker is open"))
	case all429:
		e := apierr.E(apierr.UpstreamRateLimited, "", last)
		e.RetryAfter = max(last.RetryAfter, 1)
		return e
	case last.Timeout:
		return apierr.E(apierr.UpstreamTimeout, "", last)
	case last.Status == 0:
		return apierr.E(apierr.UpstreamUnavailable, "", last)
	}
	return apierr.E(apierr.UpstreamError, "", last)
}

func canAll(b *backend.Backend, needs []backend.Capability) bool {
	for _, c := range needs {
		if !b.Can(c) {
			return false
		}
	}
	return true
}

func capNames(needs []backend.Capability) string {
	names := make([]string, len(needs))
	for i, c := range needs {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
