package ratelimit

import (
	"context"
	"net/http"
	"testing"

	"spass/shared/identity"
	"spass/shared/tenantcfg"
)

// BenchmarkAdmitUnlimited is the hot path of a tenant without limits: no Redis
// round trip and no allocation.
func BenchmarkAdmitUnlimited(b *testing.B) {
	l := New(nil)
	eff := settings(map[string]int64{tenantcfg.TenantRPM: 0, tenantcfg.UserTPM: 0})
	p := identity.Principal{Tenant: "acme", User: "alice"}
	h := http.Header{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		done, err := l.Admit(ctx, p, eff, h)
		if err != nil {
			b.Fatal(err)
		}
		done(100)
	}
}

// BenchmarkAdmitRedis is one request under all four limits: the Lua script, then
// done's MULTI adding the tokens.
func BenchmarkAdmitRedis(b *testing.B) {
	benchmarkAdmit(b, NewForTest(b))
}

// BenchmarkAdmitMemory is the same with the in-process store.
func BenchmarkAdmitMemory(b *testing.B) {
	benchmarkAdmit(b, New(nil))
}

func benchmarkAdmit(b *testing.B, l *Limiter) {
	eff := settings(map[string]int64{tenantcfg.TenantRPM: 1e9, tenantcfg.TenantTPM: 1e12,
		tenantcfg.UserRPM: 1e9, tenantcfg.UserTPM: 1e12})
	p := identity.Principal{Tenant: "acme", User: "alice"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		done, err := l.Admit(ctx, p, eff, http.Header{})
		if err != nil {
			b.Fatal(err)
		}
		done(100)
	}
	if !l.Healthy() {
		b.Fatal("the store failed during the benchmark")
	}
}
