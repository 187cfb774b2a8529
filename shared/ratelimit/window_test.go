package ratelimit

import (
	"testing"
	"time"

	"spass/shared/tenantcfg"
)

// clock is a settable time for the in-process store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fakeLimiter is an in-process Limiter whose clock the test moves; it starts at
// the beginning of a window.
func fakeLimiter() (*Limiter, *clock) {
	c := &clock{t: time.UnixMilli(1000 * window)}
	return &Limiter{store: newMemStore(c.now)}, c
}

func TestWaitMs(t *testing.T) {
	tests := []struct {
		name                      string
		limit, cur, prev, elapsed int64
		want                      int64
	}{
		{"fits now", 10, 3, 0, 0, 0},
		{"current window full at its start", 10, 10, 0, 0, 66_000},
		{"current window full half way", 10, 10, 0, 30_000, 36_000},
		{"limit one waits out the next window", 1, 1, 0, 0, 120_000},
		{"previous window still weighs", 10, 5, 10, 0, 36_000},
		{"previous window nearly gone", 10, 9, 10, 59_000, 1_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := waitMs(tc.limit, tc.cur, tc.prev, tc.elapsed)
			if got != tc.want {
				t.Errorf("waitMs(%d, %d, %d, %d) = %d, want %d", tc.limit, tc.cur, tc.prev, tc.elapsed, got, tc.want)
			}
			if got > 0 && requestFits(tc.limit, tc.cur, tc.prev, tc.elapsed) {
				t.Errorf("waits %d ms though a request fits now", got)
			}
		})
	}
}

func TestRetryAfterIsWhenTheWindowFrees(t *testing.T) {
	t.Run("requests", func(t *testing.T) {
		l, c := fakeLimiter()
		eff := settings(map[string]int64{tenantcfg.TenantRPM: 10})
		for range 10 {
			if _, _, refused := admit(t, l, "acme", "", eff); refused != nil {
				t.Fatal(refused)
			}
		}
		_, h, refused := admit(t, l, "acme", "", eff)
		if refused == nil || refused.RetryAfter != 66 || header(t, h, HeaderReset) != 120 {
			t.Fatalf("11th request: %v, headers %v; want Retry-After 66 and Reset 120", refused, h)
		}
		c.t = c.t.Add(65 * time.Second)
		if _, _, refused := admit(t, l, "acme", "", eff); refused == nil {
			t.Error("admitted a second before Retry-After")
		}
		c.t = c.t.Add(time.Second)
		if _, _, refused := admit(t, l, "acme", "", eff); refused != nil {
			t.Errorf("refused at Retry-After: %v", refused)
		}
	})
	t.Run("tokens", func(t *testing.T) {
		l, c := fakeLimiter()
		eff := settings(map[string]int64{tenantcfg.TenantTPM: 100})
		done, _, _ := admit(t, l, "acme", "", eff)
		done(200)
		_, _, refused := admit(t, l, "acme", "", eff)
		if refused == nil || refused.RetryAfter != 91 {
			t.Fatalf("after 200 tokens: %v, want Retry-After 91", refused)
		}
		c.t = c.t.Add(90 * time.Second)
		if _, _, refused := admit(t, l, "acme", "", eff); refused == nil {
			t.Error("admitted while 100 tokens still count")
		}
		c.t = c.t.Add(time.Second)
		if _, _, refused := admit(t, l, "acme", "", eff); refused != nil {
			t.Errorf("refused at Retry-After: %v", refused)
		}
	})
}

func TestPreviousWindowWeighsByOverlap(t *testing.T) {
	l, c := fakeLimiter()
	eff := settings(map[string]int64{tenantcfg.TenantRPM: 10})
	count := func() int {
		n := 0
		for range 20 {
			if _, _, refused := admit(t, l, "acme", "", eff); refused == nil {
				n++
			}
		}
		return n
	}
	if got := count(); got != 10 {
		t.Fatalf("first window admitted %d, want 10", got)
	}
	c.t = c.t.Add(90 * time.Second) // half way through the next window: 10 × 0.5 still count
	if got := count(); got != 5 {
		t.Errorf("half way through the next window admitted %d, want 5", got)
	}
	c.t = c.t.Add(time.Minute) // the 5 counted then weigh 5 × 0.5; the first 10 are gone
	if got := count(); got != 7 {
		t.Errorf("a window later admitted %d, want 7", got)
	}
}

func TestMemoryForgetsIdleScopes(t *testing.T) {
	l, c := fakeLimiter()
	s := l.store.(*memStore)
	for _, user := range []string{"a", "b", "c"} {
		done, _, _ := admit(t, l, "acme", user, settings(map[string]int64{tenantcfg.UserRPM: 5, tenantcfg.UserTPM: 5}))
		done(1)
	}
	if len(s.slots) != 3 {
		t.Fatalf("%d slots, want 3", len(s.slots))
	}
	c.t = c.t.Add(2 * time.Minute)
	admit(t, l, "acme", "d", settings(map[string]int64{tenantcfg.UserRPM: 5}))
	if len(s.slots) != 1 {
		t.Errorf("%d slots two windows later, want only the new one", len(s.slots))
	}
}
