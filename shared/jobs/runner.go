package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"spass/shared/store"
)

// Workers runs the asynq server and scheduler against Redis.
type Workers struct {
	server    *asynq.Server
	scheduler *asynq.Scheduler
	db        *store.DB
}

// NewWorkers prepares a worker server and the scheduler on the Redis at redisURL.
func NewWorkers(redisURL string, db *store.DB, concurrency int) (*Workers, error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, err
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:    concurrency,
		Queues:         Queues,
		RetryDelayFunc: RetryDelay,
		Logger:         slogAdapter{},
		LogLevel:       asynq.WarnLevel,
	})
	sch := asynq.NewScheduler(opt, &asynq.SchedulerOpts{
		Logger:   slogAdapter{},
		LogLevel: asynq.WarnLevel,
		PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			if err != nil && err != asynq.ErrDuplicateTask {
				slog.Warn("scheduled job not enqueued", "err", err)
			}
		},
	})
	for _, p := range Schedule {
		// Unique for the period: several schedulers (one per gateway host) enqueue it once.
		if _, err := sch.Register(p.Spec, NewRollupTask(p.Bucket), asynq.Unique(p.Period-time.Minute)); err != nil {
			return nil, err
		}
	}
	return &Workers{server: srv, scheduler: sch, db: db}, nil
}

// Start starts processing and scheduling.
func (w *Workers) Start() error {
	if err := w.server.Start(Mux(w.db)); err != nil {
		return err
	}
	return w.scheduler.Start()
}

// Shutdown stops the scheduler, then waits for running jobs.
func (w *Workers) Shutdown() {
	w.scheduler.Shutdown()
	w.server.Shutdown()
}

// RunLocal runs the same schedule in-process until ctx ends: the embedded default
// without Redis. It also catches up once at start.
func RunLocal(ctx context.Context, db *store.DB) {
	run := func(bucket string) {
		if _, err := Rollup(ctx, db, bucket); err != nil && ctx.Err() == nil {
			slog.Warn("in-process rollup failed", "bucket", bucket, "err", err)
		}
	}
	c := cron.New()
	for _, p := range Schedule {
		c.AddFunc(p.Spec, func() { run(p.Bucket) })
	}
	for _, p := range Schedule {
		run(p.Bucket)
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
}

// slogAdapter sends asynq's logs to slog.
type slogAdapter struct{}

func (slogAdapter) Debug(args ...any) { slog.Debug(sprint(args)) }
func (slogAdapter) Info(args ...any)  { slog.Info(sprint(args)) }
func (slogAdapter) Warn(args ...any)  { slog.Warn(sprint(args)) }
func (slogAdapter) Error(args ...any) { slog.Error(sprint(args)) }
func (slogAdapter) Fatal(args ...any) { slog.Error(sprint(args)) }

func sprint(args []any) string { return fmt.Sprint(args...) }
