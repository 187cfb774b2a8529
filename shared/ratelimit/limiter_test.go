package ratelimit

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"spass/shared/tenantcfg"
)

// step is one request: who sends it, whether it must be admitted, the tokens its
// done reports, and on refusal the setting the message must name.
type step struct {
	tenant, user string
	admitted     bool
	tokens       int64
	names        string
}

func TestLimits(t *testing.T) {
	const (
		rpm, tpm, urpm, utpm = tenantcfg.TenantRPM, tenantcfg.TenantTPM, tenantcfg.UserRPM, tenantcfg.UserTPM
	)
	ok := func(user string) step { return step{tenant: "acme", user: user, admitted: true} }
	no := func(user, names string) step { return step{tenant: "acme", user: user, names: names} }
	used := func(user string, tokens int64) step { s := ok(user); s.tokens = tokens; return s }
	tests := []struct {
		name     string
		settings map[string]int64
		steps    []step
	}{
		{"tenant requests are limited", map[string]int64{rpm: 3},
			[]step{ok("alice"), ok("bob"), ok(""), no("carol", rpm), no("", rpm)}},
		{"user requests are limited per user", map[string]int64{urpm: 2},
			[]step{ok("alice"), ok("alice"), no("alice", urpm), ok("bob"), ok("bob"), no("bob", urpm)}},
		{"user limits skip requests without a user", map[string]int64{urpm: 1, utpm: 1},
			[]step{ok(""), ok(""), ok(""), ok("alice"), no("alice", urpm)}},
		{"a refused request counts nothing", map[string]int64{rpm: 3, urpm: 1},
			[]step{ok("alice"), no("alice", urpm), no("alice", urpm), no("alice", urpm), ok("bob"), ok("carol"), no("dave", rpm)}},
		{"tenant tokens are counted by done", map[string]int64{tpm: 100},
			[]step{used("alice", 60), used("bob", 60), no("carol", tpm), no("", tpm)}},
		{"user tokens are limited per user", map[string]int64{utpm: 100},
			[]step{used("alice", 150), no("alice", utpm), used("bob", 99), ok("bob"), used("bob", 1), no("bob", utpm)}},
		{"a token refusal counts no request", map[string]int64{rpm: 2, utpm: 10},
			[]step{used("alice", 20), no("alice", utpm), no("alice", utpm), ok("bob"), no("carol", rpm)}},
		{"tenants do not share budgets", map[string]int64{rpm: 2, tpm: 10},
			[]step{used("alice", 50), no("alice", tpm), {tenant: "globex", user: "alice", admitted: true},
				{tenant: "globex", admitted: true}, {tenant: "globex", names: rpm}}},
		{"unlimited admits everything", map[string]int64{},
			[]step{used("alice", 1e9), used("alice", 1e9), ok("")}},
	}
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			l := v.new(t)
			for i, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					eff := settings(tc.settings)
					for j, s := range tc.steps {
						tenant := s.tenant + "-" + strconv.Itoa(i) // a fresh budget per case
						done, _, refused := admit(t, l, tenant, s.user, eff)
						if got := refused == nil; got != s.admitted {
							t.Fatalf("step %d (%s/%q): admitted %v, want %v (%v)", j, s.tenant, s.user, got, s.admitted, refused)
						}
						if refused != nil {
							if !strings.Contains(refused.Message, "("+s.names+")") || refused.RetryAfter < 1 {
								t.Fatalf("step %d: refusal %q Retry-After %d, want it to name %s and Retry-After >= 1",
									j, refused.Message, refused.RetryAfter, s.names)
							}
							continue
						}
						done(s.tokens)
					}
				})
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			l := v.new(t)
			t.Run("absent without limits", func(t *testing.T) {
				_, h, _ := admit(t, l, "free", "alice", settings(map[string]int64{tenantcfg.UserRPM: 5}))
				_, h2, _ := admit(t, l, "free", "", settings(map[string]int64{tenantcfg.UserRPM: 5}))
				if len(h) == 0 || len(h2) != 0 {
					t.Errorf("with a user limit: %v; without a user: %v", h, h2)
				}
			})
			t.Run("remaining decreases", func(t *testing.T) {
				eff := settings(map[string]int64{tenantcfg.TenantRPM: 5, tenantcfg.TenantTPM: 1000})
				lastReq, lastTok := int64(6), int64(1001)
				for i := range 5 {
					done, h, refused := admit(t, l, "acme", "alice", eff)
					if refused != nil {
						t.Fatalf("request %d refused: %v", i, refused)
					}
					req, tok := header(t, h, HeaderRemainingRequests), header(t, h, HeaderRemainingTokens)
					if req >= lastReq || tok >= lastTok {
						t.Errorf("request %d: remaining %d requests, %d tokens; want below %d, %d", i, req, tok, lastReq, lastTok)
					}
					if header(t, h, HeaderLimitRequests) != 5 || header(t, h, HeaderLimitTokens) != 1000 {
						t.Errorf("limits %v", h)
					}
					if r := header(t, h, HeaderReset); r < 1 || r > 120 {
						t.Errorf("reset %d s, want 1..120", r)
					}
					lastReq, lastTok = req, tok
					done(100)
				}
				_, h, refused := admit(t, l, "acme", "alice", eff)
				if refused == nil || header(t, h, HeaderRemainingRequests) != 0 || header(t, h, HeaderRemainingTokens) != 500 {
					t.Errorf("sixth request: refused %v, headers %v", refused, h)
				}
			})
			t.Run("tightest scope wins", func(t *testing.T) {
				eff := settings(map[string]int64{tenantcfg.TenantRPM: 100, tenantcfg.UserRPM: 3,
					tenantcfg.TenantTPM: 50, tenantcfg.UserTPM: 1000})
				_, h, _ := admit(t, l, "tight", "alice", eff)
				if header(t, h, HeaderLimitRequests) != 3 || header(t, h, HeaderRemainingRequests) != 2 ||
					header(t, h, HeaderLimitTokens) != 50 || header(t, h, HeaderRemainingTokens) != 50 {
					t.Errorf("headers %v, want the user's request limit and the tenant's token limit", h)
				}
			})
		})
	}
}

// header reads an integer SPASS-RateLimit-* header, set with its documented casing.
func header(t *testing.T, h map[string][]string, name string) int64 {
	t.Helper()
	v := h[name]
	if len(v) != 1 {
		t.Fatalf("header %s = %v in %v", name, v, h)
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		t.Fatalf("header %s = %q", name, v[0])
	}
	return n
}

func TestConcurrentAdmitsTakeEachSlotOnce(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			l := v.new(t)
			eff := settings(map[string]int64{tenantcfg.TenantRPM: 10, tenantcfg.UserRPM: 100})
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					if _, _, refused := admit(t, l, "acme", strconv.Itoa(i%3), eff); refused == nil {
						admitted.Add(1)
					}
				})
			}
			wg.Wait()
			if got := admitted.Load(); got != 10 {
				t.Errorf("admitted %d of 20, want exactly 10", got)
			}
		})
	}
}
