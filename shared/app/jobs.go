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
		jobs.InferenceKind(a.Chat, a.Store, a.Batches),
		jobs.BatchDispatchKind(a.Batches),
		jobs.BatchFinalizeKind(a.Batches),
		jobs.BatchSweepKind(a.Batches),
		jobs.CompactKind(a.Compaction),
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
		a.Jobs, a.Batches.Jobs = c, c
		return nil
	}
	l, err := jobs.NewLocal(jobs.LocalConfig{Metrics: a.Metrics.Registry()}, kinds...)
	if err != nil {
		return err
	}
	jobs.ExportLocalQueueDepth(a.Metrics, l)
	a.Jobs, a.LocalJobs = l, l
	a.Batches.Jobs, a.Batches.Resume = l, true // nothing of its queues survives a restart
	a.closers = append([]func(){func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l.Shutdown(ctx)
	}}, a.closers...)
	return nil
}

// StartJobs runs the background jobs as the gateway does (functions.Serve, and
// tests that need jobs beside gatewaytest). Without Redis (the embedded default) it
// starts the app's in-process runner and the scheduler of the periodic jobs on it,
// catching up once at start; with Redis the workers binary serves the queues,
// unless SPASS_WORKERS is "inprocess", which runs the same workers here.
func (a *App) StartJobs(ctx context.Context, getenv func(string) string) (stop func(), err error) {
	if a.LocalJobs != nil {
		sch, err := jobs.NewScheduler(a.LocalJobs, a.JobKinds()...)
		if err != nil {
			return nil, err
		}
		sch.Claim = a.Store.ClaimJobSlot // several hosts on one store: one runs each period
		a.LocalJobs.Start()
		sch.CatchUp(ctx)
		sch.Start()
		return func() {
			sch.Stop()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a.LocalJobs.Shutdown(ctx)
		}, nil
	}
	if getenv("SPASS_WORKERS") != "inprocess" {
		return func() {}, nil
	}
	w, err := jobs.NewWorkers(a.Config.RedisURL, jobs.WorkersConfig{Metrics: a.Metrics.Registry()}, a.JobKinds()...)
	if err != nil {
		return nil, err
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	return w.Shutdown, nil
}
