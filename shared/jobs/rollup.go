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

// TypeRollup rolls the ledger up into one bucket's usage table (hour or day).
// Rollups are derived from the ledger and idempotent, so any run may repeat.
const TypeRollup = "billing:rollup"

// rollupOptions: billing is the least urgent queue; a rollup that cannot finish
// in five minutes is stuck on the database and better retried.
func rollupOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueBilling), asynq.MaxRetry(8), asynq.Timeout(5 * time.Minute)}
}

// RollupPayload names the rollup bucket.
type RollupPayload struct {
	Bucket string `json:"bucket"`
}

// NewRollupTask builds a rollup task for bucket.
func NewRollupTask(bucket string) *asynq.Task {
	b, _ := json.Marshal(RollupPayload{Bucket: bucket})
	return asynq.NewTask(TypeRollup, b, rollupOptions()...)
}

// RollupHandler runs rollups on the store.
type RollupHandler struct {
	DB *store.DB
}

// ProcessTask rolls up the bucket the task names. An unknown bucket or a payload
// that does not decode is archived at once: a retry cannot fix it.
func (h *RollupHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p RollupPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return Invalid(err)
	}
	if _, ok := store.Buckets[p.Bucket]; !ok {
		return Invalid(fmt.Errorf("unknown bucket %q", p.Bucket))
	}
	if _, err := h.DB.Rollup(ctx, p.Bucket); err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// RollupKind is the rollup job on db, with its schedule: every hour at minute 1
// and every day at 00:05 UTC, a minute or five after the bucket closes.
func RollupKind(db *store.DB) Kind {
	return Kind{
		Type:    TypeRollup,
		Options: rollupOptions(),
		Handler: &RollupHandler{DB: db},
		Periodic: []Periodic{
			{Name: "billing:rollup:hour", Spec: "1 * * * *", Period: time.Hour, Task: NewRollupTask("hour")},
			{Name: "billing:rollup:day", Spec: "5 0 * * *", Period: 24 * time.Hour, Task: NewRollupTask("day")},
		},
	}
}
