package ratelimit

import (
	"context"
	"errors"
	"net"
	"net/http"
	"spass/local/redistest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"spass/shared/apierr"
	"spass/shared/identity"
	"spass/shared/tenantcfg"
)

const (
	// testDB is this package's Redis database, so packages can test in parallel.
	testDB = 11
	// testTimeout bounds Redis calls in tests: on a busy machine the production
	// 100 ms can pass, and the limiter would rightly fail open and admit.
	testTimeout = 10 * time.Second
)

// NewForTest is New with testTimeout, for the gateway test in package ratelimit_test.
func NewForTest(tb testing.TB) *Limiter { return newLimiter(openRedis(tb), testTimeout) }

// openRedis is this package's own Redis database, emptied.
func openRedis(tb testing.TB) *redis.Client { return redistest.Open(tb, testDB) }

// deadRedis is a client pointed at a port nothing listens on.
func deadRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// variant is a way to build a Limiter; every behaviour test runs on each.
type variant struct {
	name string
	new  func(tb testing.TB) *Limiter
}

func variants() []variant {
	return []variant{
		{"memory", func(testing.TB) *Limiter { return New(nil) }},
		{"redis", NewForTest},
	}
}

// settings builds an Effective holding the given integer settings.
func settings(kv map[string]int64) *tenantcfg.Effective {
	eff := &tenantcfg.Effective{Values: map[string]tenantcfg.Value{}}
	for k, v := range kv {
		eff.Values[k] = tenantcfg.Value{Value: v, Source: tenantcfg.SourceTenant}
	}
	return eff
}

// admit calls Admit and returns done, the headers and the refusal (nil if admitted).
func admit(tb testing.TB, l *Limiter, tenant, user string, eff *tenantcfg.Effective) (func(int64), http.Header, *apierr.Error) {
	tb.Helper()
	h := http.Header{}
	done, err := l.Admit(context.Background(), identity.Principal{Tenant: tenant, User: user}, eff, h)
	if done == nil {
		tb.Fatal("Admit returned a nil done")
	}
	if err == nil {
		return done, h, nil
	}
	var e *apierr.Error
	if !errors.As(err, &e) || e.Code != apierr.RateLimited {
		tb.Fatalf("Admit error %v, want a %s error", err, apierr.RateLimited)
	}
	return done, h, e
}
