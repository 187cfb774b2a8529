package ratelimit

import "math"

// window is the length of a limit's window in milliseconds: every limit is per minute.
const window = int64(60_000)

// counts are one scope's counters: requests and tokens in the current fixed window
// and in the one before it.
type counts struct {
	req, reqPrev int64
	tok, tokPrev int64
}

// roll moves c, last written in window idx, to window now: the current window
// becomes the previous one, and anything older is forgotten.
func (c counts) roll(idx, now int64) counts {
	switch {
	case idx == now:
		return c
	case idx == now-1:
		return counts{reqPrev: c.req, tokPrev: c.tok}
	}
	return counts{}
}

// estimate is the approximated sliding-window count: everything in the current
// fixed window plus the previous window's count weighted by the share of it still
// inside the sliding minute (as if the previous window's traffic was spread evenly).
// The Lua script computes the same expression in the same order, so both stores
// agree to the last bit.
func estimate(cur, prev, elapsed int64) float64 {
	return float64(prev)*float64(window-elapsed)/float64(window) + float64(cur)
}

// requestFits reports whether one more request fits under limit.
func requestFits(limit, cur, prev, elapsed int64) bool {
	return float64(limit)-estimate(cur, prev, elapsed) >= 1
}

// tokensFit reports whether the tokens used so far are below limit. The request's
// own tokens are unknown until it ends, so this is all Admit can check.
func tokensFit(limit, cur, prev, elapsed int64) bool {
	return float64(limit)-estimate(cur, prev, elapsed) > 0
}

// remaining is what is left of limit, rounded down.
func remaining(limit, cur, prev, elapsed int64) int64 {
	r := math.Floor(float64(limit) - estimate(cur, prev, elapsed))
	return int64(min(max(r, 0), float64(limit)))
}

// resetMs is the time until the scope's usage is wholly forgotten, so the whole
// limit is available again: usage in the current window still weighs on the whole
// next one.
func resetMs(cur, prev, elapsed int64) int64 {
	switch {
	case cur > 0:
		return 2*window - elapsed
	case prev > 0:
		return window - elapsed
	}
	return 0
}

// waitMs is the time until the estimate drops to limit-1, so one more request
// (or a token check) fits again, assuming nothing else is counted meanwhile.
func waitMs(limit, cur, prev, elapsed int64) int64 {
	room := float64(limit - 1 - cur) // what the weighted previous window may still hold
	if room >= 0 {
		if prev == 0 {
			return 0
		}
		// prev*(window-elapsed-d)/window <= room
		d := float64(window-elapsed) - room*float64(window)/float64(prev)
		return max(int64(math.Ceil(d)), 0)
	}
	// The current window alone is over: wait for it to become the previous one,
	// then until its weight has dropped enough: cur*(window-e2)/window <= limit-1.
	e2 := float64(window) - float64(limit-1)*float64(window)/float64(cur)
	return window - elapsed + int64(math.Ceil(e2))
}

// seconds rounds a duration in milliseconds up to whole seconds.
func seconds(ms int64) int64 {
	return (ms + 999) / 1000
}
