package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"
)

// Scheduler enqueues the kinds' periodic tasks through an Enqueuer, the same way
// for both runners: robfig/cron on UTC (it would read specs in local time
// otherwise, and the hosts would not fire at the same hour), each period's task
// named by Periodic.TaskID and retained for the period. Every scheduler firing
// in a period then enqueues the same id and all but the first get
// asynq.ErrTaskIDConflict, however fast the first run finished — which
// asynq.Unique cannot promise (its lock ends when the task succeeds), and which
// asynq's own Scheduler cannot do (it enqueues the same options every time).
type Scheduler struct {
	cron     *cron.Cron
	jobs     Enqueuer
	periodic []Periodic
	ids      []cron.EntryID // ids[i] fires periodic[i]
	// Claim, if set before Start, is asked for each period's task id before it
	// is enqueued; the task is skipped unless it answers true. The in-process
	// runner has no shared queue to refuse a second host's task id, so hosts
	// sharing a store claim the period there (store.ClaimJobSlot): one host runs
	// it. A Claim that fails lets the task run (the periodic jobs are
	// idempotent: better twice than never).
	Claim func(ctx context.Context, taskID string, now time.Time) (bool, error)
}

// NewScheduler schedules every Periodic of kinds onto e.
func NewScheduler(e Enqueuer, kinds ...Kind) (*Scheduler, error) {
	s := &Scheduler{cron: cron.New(cron.WithLocation(time.UTC)), jobs: e}
	for _, k := range kinds {
		for _, p := range k.Periodic {
			if p.Name == "" || p.Task == nil || p.Period <= 0 || (24*time.Hour)%p.Period != 0 {
				return nil, fmt.Errorf("jobs: periodic %q of %s needs a name, a task and a period dividing a day", p.Name, k.Type)
			}
			id, err := s.cron.AddFunc(p.Spec, func() { s.Fire(context.Background(), p, time.Now()) })
			if err != nil {
				return nil, fmt.Errorf("jobs: periodic %q: %w", p.Name, err)
			}
			s.periodic, s.ids = append(s.periodic, p), append(s.ids, id)
		}
	}
	return s, nil
}

// Start starts firing on schedule.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops firing and waits for an enqueue in progress.
func (s *Scheduler) Stop() { <-s.cron.Stop().Done() }

// Fire enqueues p's task for the period holding now. It reports false, and no
// error, when that period's task was already enqueued (by this or another
// scheduler).
func (s *Scheduler) Fire(ctx context.Context, p Periodic, now time.Time) (enqueued bool, err error) {
	if s.Claim != nil {
		ok, err := s.Claim(ctx, p.TaskID(now), now)
		if err != nil {
			slog.Warn("periodic job slot not claimed; running it here", "periodic", p.Name, "err", err)
		} else if !ok {
			return false, nil
		}
	}
	_, err = s.jobs.Enqueue(ctx, p.Task, asynq.TaskID(p.TaskID(now)), asynq.Retention(p.Period))
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask):
		return false, nil
	case err != nil:
		slog.Warn("periodic job not enqueued", "periodic", p.Name, "err", err)
		return false, err
	}
	return true, nil
}

// CatchUp enqueues every periodic task once now, outside the period ids, so the
// period's own run still happens. The in-process runner calls it at start: a
// gateway restarted often (make run) would otherwise rarely reach minute 1.
func (s *Scheduler) CatchUp(ctx context.Context) {
	for _, p := range s.periodic {
		if _, err := s.jobs.Enqueue(ctx, p.Task); err != nil {
			slog.Warn("periodic job not enqueued at start", "periodic", p.Name, "err", err)
		}
	}
}

// Next returns when each periodic task fires next (after Start), by name.
func (s *Scheduler) Next() map[string]time.Time {
	out := map[string]time.Time{}
	for i, p := range s.periodic {
		out[p.Name] = s.cron.Entry(s.ids[i]).Next
	}
	return out
}
