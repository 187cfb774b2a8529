package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"

	"spass/shared/apierr"
	"spass/shared/tenantcfg"
)

// Response headers describing the tightest limit that applies to the request.
// They are set with this exact casing, like chat's own SPASS-* headers.
const (
	HeaderLimitRequests     = "SPASS-RateLimit-Limit-Requests"
	HeaderRemainingRequests = "SPASS-RateLimit-Remaining-Requests"
	HeaderLimitTokens       = "SPASS-RateLimit-Limit-Tokens"
	HeaderRemainingTokens   = "SPASS-RateLimit-Remaining-Tokens"
	// HeaderReset is the number of seconds until the reported budgets are whole
	// again (not when the next request fits: that is Retry-After on a 429).
	HeaderReset = "SPASS-RateLimit-Reset"
)

// scope is one counted subject, the tenant or one of its users, with its limits
// (0: none). Its key is the same in both stores.
type scope struct {
	key      string
	user     bool
	rpm, tpm int64
}

// check is one applicable limit as seen after the store answered.
type check struct {
	setting   string // the tenantcfg key, named in a refusal
	tokens    bool
	limit     int64
	remaining int64
	reset     int64 // ms until the budget is whole again
	wait      int64 // ms until it admits again; 0 when it admits now
}

// checks evaluates every applicable limit of scopes against their counters; now
// is the store's clock in ms. The result has room for two scopes' two limits.
func checks(scopes []scope, cs []counts, now int64) ([4]check, int) {
	var out [4]check
	n := 0
	e := now % window
	for i, s := range scopes {
		c := cs[i]
		if s.rpm > 0 {
			ch := check{setting: tenantcfg.TenantRPM, limit: s.rpm,
				remaining: remaining(s.rpm, c.req, c.reqPrev, e), reset: resetMs(c.req, c.reqPrev, e)}
			if !requestFits(s.rpm, c.req, c.reqPrev, e) {
				ch.wait = waitMs(s.rpm, c.req, c.reqPrev, e)
			}
			if s.user {
				ch.setting = tenantcfg.UserRPM
			}
			out[n], n = ch, n+1
		}
		if s.tpm > 0 {
			ch := check{setting: tenantcfg.TenantTPM, tokens: true, limit: s.tpm,
				remaining: remaining(s.tpm, c.tok, c.tokPrev, e), reset: resetMs(c.tok, c.tokPrev, e)}
			if !tokensFit(s.tpm, c.tok, c.tokPrev, e) {
				ch.wait = waitMs(s.tpm, c.tok, c.tokPrev, e)
			}
			if s.user {
				ch.setting = tenantcfg.UserTPM
			}
			out[n], n = ch, n+1
		}
	}
	return out, n
}

// setHeaders reports, for requests and for tokens, the applicable limit with the
// least remaining (on a tie, the smaller limit).
func setHeaders(h http.Header, cs []check) {
	var req, tok *check
	for i := range cs {
		c := &cs[i]
		best := &req
		if c.tokens {
			best = &tok
		}
		if *best == nil || c.remaining < (*best).remaining ||
			(c.remaining == (*best).remaining && c.limit < (*best).limit) {
			*best = c
		}
	}
	var reset int64
	if req != nil {
		h[HeaderLimitRequests] = []string{strconv.FormatInt(req.limit, 10)}
		h[HeaderRemainingRequests] = []string{strconv.FormatInt(req.remaining, 10)}
		reset = req.reset
	}
	if tok != nil {
		h[HeaderLimitTokens] = []string{strconv.FormatInt(tok.limit, 10)}
		h[HeaderRemainingTokens] = []string{strconv.FormatInt(tok.remaining, 10)}
		reset = max(reset, tok.reset)
	}
	h[HeaderReset] = []string{strconv.FormatInt(seconds(reset), 10)}
}

// refusal is the 429 for a refused request. It names the limit that binds longest
// and asks the client to wait until that one admits again.
func refusal(cs []check) error {
	var worst *check
	for i := range cs {
		if c := &cs[i]; c.wait > 0 && (worst == nil || c.wait > worst.wait) {
			worst = c
		}
	}
	if worst == nil { // the store refused on a limit that fits by now: retry at once
		e := apierr.E(apierr.RateLimited, "", nil)
		e.RetryAfter = 1
		return e
	}
	what, who := "requests", "tenant"
	if worst.tokens {
		what = "tokens"
	}
	if worst.setting == tenantcfg.UserRPM || worst.setting == tenantcfg.UserTPM {
		who = "user"
	}
	e := apierr.E(apierr.RateLimited, fmt.Sprintf("Rate limit reached: %d %s per minute for this %s (%s).",
		worst.limit, what, who, worst.setting), nil)
	e.RetryAfter = int(max(seconds(worst.wait), 1))
	return e
}
