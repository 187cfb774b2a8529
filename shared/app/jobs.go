package app

import (
	"context"
	"time"

	"spass/shared/jobs"
)

// JobKinds lists every job kind with the dependencies its handler holds; both
// runners serve exactly these. A new kind is one file in shared/jobs (type,
// payload, NewXTask, handler struct, XKind) and one line here.
func (a *App) JobKinds() []jobs.Kind {
	return []jobs.Kind{
		jobs.RollupKind(a.Store),
		jobs.InferenceKind(a.Chat, a.Store),
		jobs.RAGIndexKind(a.RAG),
	}
}

// openJobs sets a.Jobs: asynq queues on Redis with REDIS_URL (the workers binary
// runs them), else the in-process runner in a.LocalJobs. That runner is not
// started here: its owner (the dev shim, the host gateway) starts it; under
// Lambda nobody does, since nothing may run between invocations, and Enqueue
// answers jobs.ErrNotStarted. App.Close drains it before the ledger and the
// store close, as its handlers use both.
func (a *App) openJobs() error {
	kinds := a.JobKinds()
	if a.Redis != nil {
		c, err := jobs.NewClient(a.Redis, kinds...)
		if err != nil {
			return err
		}
		a.Jobs = c
		return nil
	}
	l, err := jobs.NewLocal(jobs.LocalConfig{Metrics: a.Metrics.Registry()}, kinds...)
	if err != nil {
		return err
	}
	jobs.ExportLocalQueueDepth(a.Metrics, l)
	a.Jobs, a.LocalJobs = l, l
	a.closers = append([]func(){func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Shutdown(ctx)
	}}, a.closers...)
	return nil
}
