// Package ratelimit enforces a tenant's and its end users' requests-per-minute and
// tokens-per-minute limits (the ratelimit.* tenant settings; 0 is unlimited).
//
// The counters live in Redis so that every gateway process draws on one budget: a
// limit kept in process memory is multiplied by the number of replicas (LiteLLM
// #40291). One Lua script per request checks every applicable limit and, only when
// all pass, counts the request, so two gateways can never both take the last slot
// and a refused request costs nothing. Tokens are known only when a request ends:
// Admit checks that the tokens used so far are below the limit, and done adds them.
//
// The window is an approximated sliding window: two fixed one-minute counters per
// scope, the previous one weighted by how much of it still overlaps the last 60 s.
// Unlike a fixed window it does not let a client spend two minutes' budget around a
// window boundary; unlike an exact sliding log it costs O(1) memory and time per
// scope whatever the limit (a log of 100 000 requests per minute would be a sorted
// set of 100 000 members), and token counts fit it directly (HINCRBY) where a log
// would need one entry per request. The estimate assumes the previous minute's
// traffic was spread evenly; it never admits more than the limit within one fixed
// window, and after a burst it may hold back a little longer than an exact window
// would (for a limit of 1, up to two minutes).
//
// Without Redis, an in-process store gives one process the same semantics, for the
// embedded default.
package ratelimit

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"spass/shared/identity"
	"spass/shared/tenantcfg"
)

const (
	// timeout bounds each Redis call: a limiter that waits on a slow Redis slows
	// every request, and failing open after 100 ms costs less.
	timeout = 100 * time.Millisecond
	// backoff is how long Redis is skipped after it failed, so a hung Redis costs
	// one timeout per second rather than one per request.
	backoff = time.Second
	// warnEvery throttles the warning logged while Redis fails.
	warnEvery = time.Minute
)

// store keeps the window counters.
type store interface {
	// admit checks every limit of scopes and, only when all pass, counts one
	// request in each scope with a request limit, in one atomic step. It fills cs
	// with each scope's counters (after counting) and returns the store's clock in
	// ms, which also decides the window.
	admit(ctx context.Context, scopes []scope, cs []counts) (now int64, ok bool, err error)
	// addTokens adds tokens to every scope in the window of at (the store's ms).
	addTokens(ctx context.Context, scopes []scope, at, tokens int64) error
}

// Limiter implements chat.Limiter.
//
// When Redis fails, Admit admits: it fails open, logs a warning at most once a
// minute, and Healthy reports false until Redis answers again. Rate limits here
// protect fairness and spend, not security: authentication and model policy are
// checked without Redis, and every request is still written to the ledger, so an
// overrun during an outage is visible and billed. Failing closed would turn an
// outage of a cache-tier dependency into an outage of the whole gateway, for every
// tenant, including those without limits.
type Limiter struct {
	store store

	degraded  atomic.Bool
	skipUntil atomic.Int64 // unix ns; Redis is not asked before then
	warnedAt  atomic.Int64 // unix ns of the last warning
}

// New returns a limiter that keeps its counters in rdb, or in process memory when
// rdb is nil (correct for a single process only). Calls to rdb are bounded by a
// short socket timeout on a clone sharing rdb's pool; rdb's DialTimeout bounds new
// connections, so keep it short too.
func New(rdb *redis.Client) *Limiter {
	return newLimiter(rdb, timeout)
}

// newLimiter is New with another bound on Redis calls, for tests on a busy machine.
func newLimiter(rdb *redis.Client, timeout time.Duration) *Limiter {
	if rdb == nil {
		return &Limiter{store: newMemStore(time.Now)}
	}
	return &Limiter{store: newRedisStore(rdb, timeout)}
}

// noop is done for a request no token limit applies to.
func noop(int64) {}

// Admit checks the request against every limit that applies to p and, when all
// pass, counts it. It sets the SPASS-RateLimit-* headers whenever a limit applies;
// done adds the tokens the request used. A refusal is an apierr.RateLimited error
// with Retry-After. With no limits configured it touches neither Redis nor the heap.
func (l *Limiter) Admit(ctx context.Context, p identity.Principal, eff *tenantcfg.Effective, h http.Header) (done func(tokens int64), err error) {
	if eff == nil {
		return noop, nil
	}
	var sc [2]scope
	n := 0
	if rpm, tpm := eff.Int(tenantcfg.TenantRPM), eff.Int(tenantcfg.TenantTPM); rpm > 0 || tpm > 0 {
		sc[n], n = scope{rpm: rpm, tpm: tpm}, n+1
	}
	if p.User != "" {
		if rpm, tpm := eff.Int(tenantcfg.UserRPM), eff.Int(tenantcfg.UserTPM); rpm > 0 || tpm > 0 {
			sc[n], n = scope{user: true, rpm: rpm, tpm: tpm}, n+1
		}
	}
	if n == 0 || l.skipping() {
		return noop, nil
	}
	return l.admit(ctx, p, sc, n, h)
}

// admit is Admit once a limit applies. It is apart so that the scopes escape to
// the heap only here, and the unlimited path allocates nothing.
func (l *Limiter) admit(ctx context.Context, p identity.Principal, sc [2]scope, n int, h http.Header) (func(int64), error) {
	for i := range sc[:n] {
		sc[i].key = key(p.Tenant, p.User, sc[i].user)
	}
	var cs [2]counts
	now, ok, err := l.store.admit(ctx, sc[:n], cs[:n])
	if err != nil {
		if ctx.Err() != nil {
			return noop, ctx.Err() // the client left; Redis is not to blame
		}
		l.fail(err)
		return noop, nil
	}
	l.recovered()
	all, m := checks(sc[:n], cs[:n], now)
	setHeaders(h, all[:m])
	if !ok {
		return noop, refusal(all[:m])
	}
	return l.done(ctx, sc, n, now), nil
}

// done returns the function that adds a finished request's tokens to every scope
// with a token limit, in the window current when it ends. The store's clock at
// admission plus the local monotonic time since then stands in for the store's
// clock, so gateways with skewed clocks still agree on windows.
func (l *Limiter) done(ctx context.Context, sc [2]scope, n int, at int64) func(int64) {
	m := 0
	for _, s := range sc[:n] {
		if s.tpm > 0 {
			sc[m], m = s, m+1
		}
	}
	if m == 0 {
		return noop
	}
	start := time.Now()
	ctx = context.WithoutCancel(ctx) // a client that left still used the tokens
	return func(tokens int64) {
		if tokens <= 0 || l.skipping() {
			return
		}
		if err := l.store.addTokens(ctx, sc[:m], at+time.Since(start).Milliseconds(), tokens); err != nil {
			l.fail(err)
		}
	}
}

// Healthy reports whether the shared store answered the last call. While false,
// limits are not enforced; /readyz shows it as degraded.
func (l *Limiter) Healthy() bool { return !l.degraded.Load() }

// skipping reports whether Redis failed less than backoff ago.
func (l *Limiter) skipping() bool {
	u := l.skipUntil.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// fail records a store failure: degraded, skipped for backoff, warned once a minute.
func (l *Limiter) fail(err error) {
	now := time.Now().UnixNano()
	l.degraded.Store(true)
	l.skipUntil.Store(now + int64(backoff))
	last := l.warnedAt.Load()
	if now-last >= int64(warnEvery) && l.warnedAt.CompareAndSwap(last, now) {
		slog.Warn("rate limits not enforced: redis unavailable, admitting requests", "err", err)
	}
}

// recovered clears the degraded state after a successful call.
func (l *Limiter) recovered() {
	if l.degraded.Load() && l.degraded.CompareAndSwap(true, false) {
		l.skipUntil.Store(0)
		slog.Info("rate limits enforced again: redis answers")
	}
}
