package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Client enqueues on Redis for the asynq workers: the Enqueuer of a gateway or a
// Lambda function with REDIS_URL.
type Client struct {
	reg    registry
	client *asynq.Client
}

// NewClient enqueues kinds through rdb, whose timeouts bound each Enqueue (the
// gateway's client fails fast while Redis is down). rdb stays the caller's to close.
func NewClient(rdb redis.UniversalClient, kinds ...Kind) (*Client, error) {
	reg, err := newRegistry(kinds)
	if err != nil {
		return nil, err
	}
	return &Client{reg: reg, client: asynq.NewClientFromRedisClient(rdb)}, nil
}

// Enqueue queues t with its kind's options, then opts.
func (c *Client) Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	t, all, _, err := c.reg.prepare(ctx, t, opts)
	if err != nil {
		return nil, err
	}
	return c.client.EnqueueContext(ctx, t, all...)
}

// WorkersConfig tunes the asynq workers; zero values mean the defaults.
type WorkersConfig struct {
	// Concurrency is how many jobs run at once over all queues (4).
	Concurrency int
	// Metrics is where the job instruments go (none when nil).
	Metrics prometheus.Registerer
}

// Workers serves the queues on Redis with asynq's server and runs the Scheduler
// of the kinds' periodic tasks: the workers binary, or the gateway with
// SPASS_WORKERS=inprocess.
type Workers struct {
	server    *asynq.Server
	client    *asynq.Client
	scheduler *Scheduler
	handler   asynq.Handler
}

// NewWorkers prepares the server and the scheduler of kinds on the Redis at redisURL.
func NewWorkers(redisURL string, cfg WorkersConfig, kinds ...Kind) (*Workers, error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	reg, err := newRegistry(kinds)
	if err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:    cfg.Concurrency,
		Queues:         Queues(),
		RetryDelayFunc: RetryDelay,
		Logger:         slogAdapter{},
		LogLevel:       asynq.WarnLevel,
	})
	client := asynq.NewClient(opt)
	sch, err := NewScheduler(&Client{reg: reg, client: client}, kinds...)
	if err != nil {
		client.Close()
		return nil, err
	}
	return &Workers{server: srv, client: client, scheduler: sch, handler: handler(cfg.Metrics, kinds)}, nil
}

// Start starts processing, then scheduling.
func (w *Workers) Start() error {
	if err := w.server.Start(w.handler); err != nil {
		return err
	}
	w.scheduler.Start()
	return nil
}

// Shutdown stops the scheduler, then waits for running jobs (asynq gives them
// 8 s, then puts them back on their queue for the next worker).
func (w *Workers) Shutdown() {
	w.scheduler.Stop()
	w.server.Shutdown()
	w.client.Close()
}

// slogAdapter sends asynq's logs to slog.
type slogAdapter struct{}

func (slogAdapter) Debug(args ...any) { slog.Debug(fmt.Sprint(args...)) }
func (slogAdapter) Info(args ...any)  { slog.Info(fmt.Sprint(args...)) }
func (slogAdapter) Warn(args ...any)  { slog.Warn(fmt.Sprint(args...)) }
func (slogAdapter) Error(args ...any) { slog.Error(fmt.Sprint(args...)) }
func (slogAdapter) Fatal(args ...any) { slog.Error(fmt.Sprint(args...)) }
