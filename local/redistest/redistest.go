// Package redistest gives tests their own database on the local Redis, which
// .ci/run starts; one database number per test package lets packages run in parallel.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis connects to the local Redis on database db (one per test package, so
// packages test in parallel) and empties it. Without Redis the test fails in CI and
// is skipped elsewhere.
func Open(tb testing.TB, db int) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: db})
	tb.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis at 127.0.0.1:6379: %v", err)
		}
		tb.Skipf("redis at 127.0.0.1:6379 is not reachable: %v", err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		tb.Fatal(err)
	}
	return rdb
}
