package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"spass/shared/tenantcfg"
)

func TestProcessesShareOneBudget(t *testing.T) {
	openRedis(t) // flushes the database
	// Two clients, two limiters: what two gateway processes would have.
	var ls []*Limiter
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testDB})
		t.Cleanup(func() { rdb.Close() })
		ls = append(ls, newLimiter(rdb, testTimeout))
	}
	eff := settings(map[string]int64{tenantcfg.TenantRPM: 10})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		l := ls[i%2]
		wg.Go(func() {
			if _, _, refused := admit(t, l, "acme", "", eff); refused == nil {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != 10 {
		t.Errorf("admitted %d of 20 across two processes, want exactly 10", got)
	}
}

func TestKeysAreNamespacedAndExpire(t *testing.T) {
	rdb := openRedis(t)
	ctx := context.Background()
	// Windows long gone, as a clock jump could leave behind.
	rdb.HSet(ctx, "spass:rl:{acme}", "r1", 5, "t1", 5, "r2", 5, "t2", 5, "r3", 5)
	l := newLimiter(rdb, testTimeout)
	done, _, _ := admit(t, l, "acme", "alice", settings(map[string]int64{
		tenantcfg.TenantRPM: 5, tenantcfg.UserTPM: 100}))
	done(7)
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys %v, want one per scope", keys)
	}
	for _, k := range []string{"spass:rl:{acme}", "spass:rl:{acme}:u:alice"} {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > 2*time.Minute {
			t.Errorf("%s: TTL %v (%v), want at most two windows", k, ttl, err)
		}
	}
	tenant, err := rdb.HGetAll(ctx, "spass:rl:{acme}").Result()
	if err != nil || len(tenant) != 1 {
		t.Errorf("tenant counters %v (%v), want only this window's request count", tenant, err)
	}
	user, err := rdb.HGetAll(ctx, "spass:rl:{acme}:u:alice").Result()
	if err != nil || len(user) != 1 {
		t.Errorf("user counters %v (%v), want only this window's tokens", user, err)
	}
	for f, v := range user {
		if f[0] != 't' || v != "7" {
			t.Errorf("user counter %s = %s, want t<window> = 7", f, v)
		}
	}
	if got := key("a{b}%", "u", true); got != "spass:rl:{a%7Bb%7D%25}:u:u" {
		t.Errorf("escaped key %q", got)
	}
}

func TestRedisDownFailsOpen(t *testing.T) {
	l := New(deadRedis(t))
	eff := settings(map[string]int64{tenantcfg.TenantRPM: 1, tenantcfg.TenantTPM: 1})
	for range 3 {
		done, _, refused := admit(t, l, "acme", "alice", eff)
		if refused != nil {
			t.Fatalf("refused with Redis down: %v", refused)
		}
		done(100)
	}
	if l.Healthy() {
		t.Error("Healthy with Redis down")
	}
}

func TestRecoversWhenRedisAnswers(t *testing.T) {
	l := NewForTest(t)
	if !l.Healthy() {
		t.Fatal("a new limiter is not healthy")
	}
	l.fail(errors.New("connection refused"))
	if l.Healthy() || !l.skipping() {
		t.Fatal("a failure did not mark the limiter degraded")
	}
	l.skipUntil.Store(1) // the backoff is over
	if _, _, refused := admit(t, l, "acme", "", settings(map[string]int64{tenantcfg.TenantRPM: 5})); refused != nil {
		t.Fatal(refused)
	}
	if !l.Healthy() || l.skipping() {
		t.Error("still degraded after Redis answered")
	}
}
