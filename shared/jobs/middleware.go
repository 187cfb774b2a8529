package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"spass/shared/requestid"
)

// handler is what both runners serve: the kinds' mux behind Middleware.
func handler(reg prometheus.Registerer, kinds []Kind) asynq.Handler {
	mux := Mux(kinds...)
	mux.Use(Middleware(reg))
	return mux
}

// Middleware opens each task's envelope into its context (request id through
// requestid.With, principal and origin for Principal and Origin), logs the start
// and any failure, and counts attempts, failures and durations by task type on
// reg. It is asynq middleware, so both runners apply the same one.
func Middleware(reg prometheus.Registerer) asynq.MiddlewareFunc {
	m := newInstruments(reg)
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			ctx = open(ctx, t)
			a := attemptOf(ctx)
			log := slog.With("job", t.Type(), "task_id", a.id, "queue", a.queue,
				"request_id", requestid.From(ctx), "attempt", a.retried+1)
			if p := Principal(ctx); p.Tenant != "" {
				log = log.With("tenant", p.Tenant)
			}
			if o := Origin(ctx); o != "" {
				log = log.With("origin_request_id", o)
			}
			log.InfoContext(ctx, "job started")
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			m.duration.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
			m.processed.WithLabelValues(t.Type()).Inc()
			if err != nil {
				m.failed.WithLabelValues(t.Type()).Inc()
				switch {
				case errors.Is(err, asynq.RevokeTask):
					log.InfoContext(ctx, "job revoked", "err", err)
				case errors.Is(err, asynq.SkipRetry) || a.retried >= a.maxRetry:
					log.ErrorContext(ctx, "job failed, not retried", "err", err)
				default:
					log.WarnContext(ctx, "job failed, will retry", "err", err)
				}
			}
			return err
		})
	}
}

// attempt says which task and which try is running.
type attempt struct {
	id, queue         string
	retried, maxRetry int
}

type attemptKey struct{}

// attemptOf reads the running attempt from ctx: the in-process runner puts it
// there, asynq's server keeps its own (read through asynq's accessors).
func attemptOf(ctx context.Context) attempt {
	if a, ok := ctx.Value(attemptKey{}).(attempt); ok {
		return a
	}
	var a attempt
	a.id, _ = asynq.GetTaskID(ctx)
	a.queue, _ = asynq.GetQueueName(ctx)
	a.retried, _ = asynq.GetRetryCount(ctx)
	a.maxRetry, _ = asynq.GetMaxRetry(ctx)
	return a
}

// LastAttempt reports whether the running attempt is the task's last: a handler
// that must leave exactly one outcome records a failure then, instead of retrying.
func LastAttempt(ctx context.Context) bool {
	a := attemptOf(ctx)
	return a.retried >= a.maxRetry
}
