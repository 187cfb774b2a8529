package router

import (
	"sync"
	"time"
)

// BreakerState is a circuit breaker's state.
type BreakerState int

// States of a breaker: closed lets traffic through, open refuses it until the
// cooldown ends, half-open lets exactly one probe request through.
const (
	Closed BreakerState = iota
	Open
	HalfOpen
)

func (s BreakerState) String() string {
	return [...]string{"closed", "open", "half_open"}[s]
}

// Breaker opens after Failures consecutive failures and, after Cooldown, lets one
// probe through: success closes it, failure opens it again.
type Breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time

	mu       sync.Mutex
	state    BreakerState
	count    int
	openedAt time.Time
	probing  bool
}

// NewBreaker returns a closed breaker.
func NewBreaker(failures int, cooldown time.Duration, now func() time.Time) *Breaker {
	if now == nil {
		now = time.Now
	}
	return &Breaker{failures: failures, cooldown: cooldown, now: now}
}

// Allow reports whether a request may go to the backend now. A true answer in the
// half-open state reserves the single probe; the caller must report its outcome.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Open:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.state, b.probing = HalfOpen, true
		return true
	case HalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// Success records a healthy exchange.
func (b *Breaker) Success() {
	b.mu.Lock()
	b.state, b.count, b.probing = Closed, 0, false
	b.mu.Unlock()
}

// Failure records a failed exchange (connect error, timeout, 5xx).
func (b *Breaker) Failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count++
	if b.state == HalfOpen || b.count >= b.failures {
		b.state, b.openedAt, b.probing = Open, b.now(), false
	}
}

// Release gives back a reserved probe whose outcome says nothing about the backend
// (the client went away, or the request was the caller's fault).
func (b *Breaker) Release() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// State returns the current state; an open breaker past its cooldown reads half-open.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && b.now().Sub(b.openedAt) >= b.cooldown {
		return HalfOpen
	}
	return b.state
}
