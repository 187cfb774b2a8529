package respcache

import (
	"bytes"
	"context"
	"net"
	"spass/local/redistest"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// testDB is this package's Redis database, so packages can test in parallel.
	testDB = 12
	// testTimeout bounds Redis calls in tests: on a busy machine the production
	// 50 ms can pass, and a put or a get would rightly be dropped.
	testTimeout = 10 * time.Second
)

// NewForTest is New with testTimeout, for the gateway test in package respcache_test.
func NewForTest(tb testing.TB) *Cache { return newCache(openRedis(tb), testTimeout) }

// openRedis is this package's own Redis database, emptied.
func openRedis(tb testing.TB) *redis.Client { return redistest.Open(tb, testDB) }

func variants() []struct {
	name string
	new  func(testing.TB) *Cache
} {
	return []struct {
		name string
		new  func(testing.TB) *Cache
	}{
		{"memory", func(testing.TB) *Cache { return New(nil) }},
		{"redis", NewForTest},
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			c := v.new(t)
			t.Run("get returns what put stored", func(t *testing.T) {
				if _, ok := c.Get(ctx, "spass:cache:a"); ok {
					t.Fatal("hit before put")
				}
				c.Put(ctx, "spass:cache:a", []byte(`{"id":"1"}`), time.Minute)
				c.Put(ctx, "spass:cache:a", []byte(`{"id":"2"}`), time.Minute)
				if got, ok := c.Get(ctx, "spass:cache:a"); !ok || string(got) != `{"id":"2"}` {
					t.Errorf("got %q %v, want the last put", got, ok)
				}
			})
			t.Run("entries expire", func(t *testing.T) {
				c.Put(ctx, "spass:cache:short", []byte("x"), 20*time.Millisecond)
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					if _, ok := c.Get(ctx, "spass:cache:short"); !ok {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("still cached 5 s after a 20 ms TTL")
					}
				}
			})
			t.Run("oversized values are not stored", func(t *testing.T) {
				c.Put(ctx, "spass:cache:big", bytes.Repeat([]byte("x"), MaxValue+1), time.Minute)
				c.Put(ctx, "spass:cache:max", bytes.Repeat([]byte("x"), MaxValue), time.Minute)
				if _, ok := c.Get(ctx, "spass:cache:big"); ok {
					t.Error("a value over MaxValue was stored")
				}
				if got, ok := c.Get(ctx, "spass:cache:max"); !ok || len(got) != MaxValue {
					t.Errorf("a value of exactly MaxValue: %d bytes, %v", len(got), ok)
				}
			})
			t.Run("no ttl, no entry", func(t *testing.T) {
				c.Put(ctx, "spass:cache:zero", []byte("x"), 0)
				if _, ok := c.Get(ctx, "spass:cache:zero"); ok {
					t.Error("stored with a zero TTL")
				}
			})
		})
	}
}

func TestRedisDownIsAMiss(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	c := New(rdb)
	ctx := context.Background()
	c.Put(ctx, "spass:cache:a", []byte("x"), time.Minute)
	if got, ok := c.Get(ctx, "spass:cache:a"); ok || got != nil {
		t.Errorf("got %q %v from a dead Redis", got, ok)
	}
}

func TestMemoryBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	m := newMemory(func() time.Time { return now }, 3, 10)
	for i := range 4 {
		m.put(strconv.Itoa(i), []byte("ab"), time.Minute)
	}
	m.get("1") // most recent now; "2" becomes the oldest
	m.put("4", []byte("ab"), time.Minute)
	for key, want := range map[string]bool{"0": false, "1": true, "2": false, "3": true, "4": true} {
		if _, ok := m.get(key); ok != want {
			t.Errorf("entry %s cached %v, want %v", key, ok, want)
		}
	}
	m.put("big", []byte("0123456789"), time.Minute) // fills the byte budget alone
	if _, ok := m.get("big"); !ok || m.lru.Len() != 1 || m.bytes != 10 {
		t.Errorf("after a 10-byte entry: %d entries, %d bytes", m.lru.Len(), m.bytes)
	}
	now = now.Add(time.Minute)
	if _, ok := m.get("big"); ok || m.lru.Len() != 0 || m.bytes != 0 {
		t.Errorf("expired entry served or kept: %d entries, %d bytes", m.lru.Len(), m.bytes)
	}
}

func TestMemoryCopiesTheBody(t *testing.T) {
	c := New(nil)
	body := []byte("answer")
	c.Put(context.Background(), "k", body, time.Minute)
	body[0] = 'X'
	if got, _ := c.Get(context.Background(), "k"); string(got) != "answer" {
		t.Errorf("got %q: the cache kept the caller's buffer", got)
	}
}
