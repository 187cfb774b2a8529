// Package jobs defines the gateway's background jobs once and runs them two ways:
// on asynq workers over Redis (queues per job kind, asynq's scheduler firing the
// periodic ones), or in-process on the same schedule when there is no Redis (the
// embedded default). Handlers are idempotent, so a duplicate run changes nothing.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/store"
)

// Task types, one queue per kind.
const (
	TypeRollup = "billing:rollup"

	QueueBilling    = "billing"
	QueueCompaction = "compaction"
	QueueRAG        = "rag"
	QueueInference  = "inference"
)

// Queues maps each queue to its asynq priority weight: interactive work first.
var Queues = map[string]int{QueueInference: 6, QueueCompaction: 3, QueueRAG: 3, QueueBilling: 1}

// Periodic is a job fired on a cron schedule.
type Periodic struct {
	Spec   string // cron spec, UTC
	Bucket string
	// Period bounds duplicates: two schedulers firing the same period enqueue once.
	Period time.Duration
}

// Schedule lists the periodic jobs: hourly and daily billing rollups.
var Schedule = []Periodic{
	{Spec: "1 * * * *", Bucket: "hour", Period: time.Hour},
	{Spec: "5 0 * * *", Bucket: "day", Period: 24 * time.Hour},
}

// RollupPayload names the rollup bucket.
type RollupPayload struct {
	Bucket string `json:"bucket"`
}

// NewRollupTask builds a rollup task for bucket.
func NewRollupTask(bucket string) *asynq.Task {
	b, _ := json.Marshal(RollupPayload{Bucket: bucket})
	return asynq.NewTask(TypeRollup, b, asynq.Queue(QueueBilling), asynq.MaxRetry(8), asynq.Timeout(5*time.Minute))
}

// Failed wraps a job error with its catalog code, so the archive says what failed.
func Failed(code apierr.Code, err error) error {
	return fmt.Errorf("%s: %w", code, err)
}

// Rollup runs one bucket's rollup.
func Rollup(ctx context.Context, db *store.DB, bucket string) (int64, error) {
	if _, ok := store.Buckets[bucket]; !ok {
		return 0, fmt.Errorf("%w: %s", asynq.SkipRetry, Failed(apierr.JobPayloadInvalid, fmt.Errorf("unknown bucket %q", bucket)))
	}
	n, err := db.Rollup(ctx, bucket)
	if err != nil {
		return 0, Failed(apierr.JobFailed, err)
	}
	return n, nil
}

// Mux returns the asynq handler of every job kind.
func Mux(db *store.DB) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeRollup, func(ctx context.Context, t *asynq.Task) error {
		var p RollupPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("%w: %s", asynq.SkipRetry, Failed(apierr.JobPayloadInvalid, err))
		}
		_, err := Rollup(ctx, db, p.Bucket)
		return err
	})
	return mux
}

// RetryDelay backs off exponentially from 2 s to 10 min.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := 2 * time.Second << min(n, 9)
	return min(d, 10*time.Minute)
}
