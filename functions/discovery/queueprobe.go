package discovery

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// queueProbe asks Redis for a PING on /readyz, and remembers a failure for a TTL
// (routing.health_ttl). /readyz needs no token: a PING to a live Redis costs about
// what answering the probe does, but with Redis down each PING would wait out its
// timeout, so a caller polling /readyz could keep the gateway waiting on a dead
// Redis once per call. A success is not cached, so an outage shows at once.
type queueProbe struct {
	rdb *redis.Client
	ttl time.Duration

	mu     sync.Mutex
	downAt time.Time // the last failed PING; zero after a success
}

// Up reports whether Redis answers.
func (q *queueProbe) Up(ctx context.Context) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.downAt.IsZero() && time.Since(q.downAt) < q.ttl {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if q.rdb.Ping(ctx).Err() != nil {
		q.downAt = time.Now()
		return false
	}
	q.downAt = time.Time{}
	return true
}
