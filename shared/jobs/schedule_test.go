package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"spass/local/pgtest"
	"spass/shared/jobs"
	"spass/shared/store"
)

func asynqTask() *asynq.Task { return asynq.NewTask(typeProbe, []byte(`{"tick":1}`)) }

func TestPeriodTaskIDs(t *testing.T) {
	hour := jobs.Periodic{Name: "p:hour", Period: time.Hour}
	day := jobs.Periodic{Name: "p:day", Period: 24 * time.Hour}
	plus5 := time.FixedZone("UTC+5", 5*3600)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		p    jobs.Periodic
		now  time.Time
		want string
	}{
		{hour, at("2026-03-01T10:01:00Z"), "p:hour@2026-03-01T10:00Z"},
		{hour, at("2026-03-01T10:59:59Z"), "p:hour@2026-03-01T10:00Z"},
		{hour, at("2026-03-01T10:01:00Z").In(plus5), "p:hour@2026-03-01T10:00Z"},
		{day, at("2026-03-01T00:05:00Z"), "p:day@2026-03-01T00:00Z"},
		// 03:00 in UTC+5 is still the previous UTC day.
		{day, at("2026-03-01T22:00:00Z").In(plus5), "p:day@2026-03-01T00:00Z"},
	}
	for _, c := range cases {
		if got := c.p.TaskID(c.now); got != c.want {
			t.Errorf("%s at %s: %s, want %s", c.p.Name, c.now, got, c.want)
		}
	}
}

// TestSchedulersEnqueueOncePerPeriod: two schedulers (two hosts) firing the same
// period enqueue its task once, even after the first run has finished; the next
// period runs again. On both runners.
func TestSchedulersEnqueueOncePerPeriod(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			p := &probe{}
			k := p.kind()
			k.Periodic = []jobs.Periodic{{Name: "test:tick", Spec: "1 * * * *", Period: time.Hour, Task: asynqTask()}}
			e := r.start(t, k)
			ctx := context.Background()
			now := time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC)
			var scheds []*jobs.Scheduler
			for range 2 {
				s, err := jobs.NewScheduler(e, k)
				if err != nil {
					t.Fatal(err)
				}
				scheds = append(scheds, s)
			}
			fire := func(s *jobs.Scheduler, at time.Time) bool {
				t.Helper()
				ok, err := s.Fire(ctx, k.Periodic[0], at)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if !fire(scheds[0], now) {
				t.Fatal("the first period was not enqueued")
			}
			waitFor(t, "first period ran", func() bool { return p.count() == 1 })
			if fire(scheds[1], now.Add(2*time.Second)) {
				t.Error("a second scheduler enqueued the same period again after it ran")
			}
			if fire(scheds[0], now.Add(30*time.Minute)) {
				t.Error("the same scheduler enqueued the same period again")
			}
			if !fire(scheds[1], now.Add(time.Hour)) {
				t.Error("the next period was not enqueued")
			}
			waitFor(t, "next period ran", func() bool { return p.count() == 2 })
		})
	}
}

// TestHostsOnOneStoreRunAPeriodOnce: three hosts without Redis, each with its
// own in-process runner and scheduler, share one PostgreSQL store; each period's
// task runs on one of them.
func TestHostsOnOneStoreRunAPeriodOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.URL(t)
	p := &probe{}
	k := p.kind()
	k.Periodic = []jobs.Periodic{{Name: "test:tick", Spec: "1 * * * *", Period: time.Hour, Task: asynqTask()}}
	var scheds []*jobs.Scheduler
	for range 3 {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := jobs.NewScheduler(startLocal(t, jobs.LocalConfig{}, k), k)
		if err != nil {
			t.Fatal(err)
		}
		s.Claim = db.ClaimJobSlot
		scheds = append(scheds, s)
	}
	now := time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC)
	for _, at := range []time.Time{now, now.Add(time.Hour)} {
		enqueued := 0
		for _, s := range scheds {
			ok, err := s.Fire(ctx, k.Periodic[0], at)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				enqueued++
			}
		}
		if enqueued != 1 {
			t.Fatalf("period %s enqueued on %d hosts, want 1", at, enqueued)
		}
	}
	waitFor(t, "both periods ran", func() bool { return p.count() == 2 })
}
