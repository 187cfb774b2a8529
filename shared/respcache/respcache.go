// Package respcache keeps answers to deterministic chat requests (temperature 0 or
// a seed) so a repeated request costs no inference. Entries live in Redis, shared
// by every gateway process; without Redis, a small in-process cache serves the
// embedded default. The cache is an optimisation: every failure is a miss.
package respcache

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// MaxValue caps a stored answer. Deterministic chat answers are small; a huge
	// one would hold a Redis connection and memory far longer than the call it saves.
	MaxValue = 1 << 20
	// timeout bounds each Redis call: a miss after 50 ms costs less than a request
	// stalled on a slow Redis.
	timeout = 50 * time.Millisecond
	// warnEvery throttles the warning logged while Redis fails.
	warnEvery = time.Minute
)

// Cache implements chat.Cache.
type Cache struct {
	rdb      *redis.Client // nil: mem serves
	mem      *memory
	timeout  time.Duration
	warnedAt atomic.Int64 // unix ns of the last warning
}

// New returns a cache in rdb, or in process memory when rdb is nil. Calls to rdb
// are bounded by a short socket timeout on a clone sharing rdb's pool.
func New(rdb *redis.Client) *Cache {
	return newCache(rdb, timeout)
}

// newCache is New with another bound on Redis calls, for tests on a busy machine.
func newCache(rdb *redis.Client, timeout time.Duration) *Cache {
	if rdb == nil {
		return &Cache{mem: newMemory(time.Now, memEntries, memBytes)}
	}
	return &Cache{rdb: rdb.WithTimeout(timeout), timeout: timeout}
}

// Get returns the answer stored under key. Errors and timeouts are misses. The
// returned slice may be shared with other readers: do not modify it.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	if c.mem != nil {
		return c.mem.get(key)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	b, err := c.rdb.Get(ctx, key).Bytes()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			c.warn(ctx, err)
		}
		return nil, false
	}
	return b, true
}

// Put stores body under key for ttl. Bodies over MaxValue, and a ttl under a
// millisecond, are not stored; errors are dropped.
func (c *Cache) Put(ctx context.Context, key string, body []byte, ttl time.Duration) {
	if len(body) > MaxValue || ttl < time.Millisecond {
		return
	}
	if c.mem != nil {
		c.mem.put(key, body, ttl)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Set(ctx, key, body, ttl).Err(); err != nil {
		c.warn(ctx, err)
	}
}

// warn logs a Redis failure at most once a minute, and not when the caller left.
func (c *Cache) warn(ctx context.Context, err error) {
	if context.Cause(ctx) == context.Canceled {
		return
	}
	now := time.Now().UnixNano()
	last := c.warnedAt.Load()
	if now-last >= int64(warnEvery) && c.warnedAt.CompareAndSwap(last, now) {
		slog.Warn("response cache unavailable, serving without it", "err", err)
	}
}
