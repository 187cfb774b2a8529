package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/jobs"
)

// backoff records the delays jobs.RetryDelay asks for and waits a millisecond
// instead, so a test sees the backoff without sleeping through it.
type backoff struct {
	mu     sync.Mutex
	asked  []time.Duration
	errors []error
}

func (b *backoff) delay(n int, err error, t *asynq.Task) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, jobs.RetryDelay(n, err, t))
	b.errors = append(b.errors, err)
	return time.Millisecond
}

// idle reports whether l has nothing left to run.
func idle(l *jobs.Local) bool {
	s := l.Stats()
	for _, n := range s.Waiting {
		if n > 0 {
			return false
		}
	}
	return s.Active == 0
}

func TestLocalRetriesWithBackoff(t *testing.T) {
	flaky := errors.New("backend busy")
	p := &probe{fail: func(n int) error {
		if n <= 2 {
			return flaky
		}
		return nil
	}}
	b := &backoff{}
	l := startLocal(t, jobs.LocalConfig{RetryDelay: b.delay}, p.kind())
	if _, err := l.Enqueue(context.Background(), asynq.NewTask(typeProbe, nil)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "third attempt succeeded", func() bool { return p.count() == 3 && idle(l) })
	if want := []time.Duration{2 * time.Second, 4 * time.Second}; !slices.Equal(b.asked, want) {
		t.Errorf("backoff asked %v, want %v", b.asked, want)
	}
	for _, err := range b.errors {
		if !errors.Is(err, flaky) {
			t.Errorf("the delay func got %v, want the handler's error", err)
		}
	}
	if p.count() != 3 {
		t.Errorf("%d attempts after success, want 3", p.count())
	}
}

func TestLocalStopsRetrying(t *testing.T) {
	cases := []struct {
		name    string
		opts    []asynq.Option
		fail    error
		wantRun int
	}{
		{"after MaxRetry", []asynq.Option{asynq.MaxRetry(2)}, errors.New("down"), 3},
		{"on SkipRetry", nil, fmt.Errorf("%w: bad payload", asynq.SkipRetry), 1},
		{"on RevokeTask", nil, asynq.RevokeTask, 1},
		{"on a panic after MaxRetry", []asynq.Option{asynq.MaxRetry(1)}, nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &probe{fail: func(int) error {
				if c.fail == nil {
					panic("handler bug")
				}
				return c.fail
			}}
			l := startLocal(t, jobs.LocalConfig{RetryDelay: (&backoff{}).delay}, p.kind(c.opts...))
			if _, err := l.Enqueue(context.Background(), asynq.NewTask(typeProbe, nil)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "given up", func() bool { return p.count() >= c.wantRun && idle(l) })
			if p.count() != c.wantRun {
				t.Fatalf("%d attempts, want %d", p.count(), c.wantRun)
			}
		})
	}
}

// TestLocalUniqueLockEndsOnSuccess: as with asynq, a Unique lock is held while
// the task waits or runs and released when it succeeds; a TaskID stays taken
// for the task's Retention.
func TestLocalUniqueLockEndsOnSuccess(t *testing.T) {
	p := &probe{}
	l := startLocal(t, jobs.LocalConfig{}, p.kind())
	ctx := context.Background()
	if _, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.Unique(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ran", func() bool { return p.count() == 1 && idle(l) })
	if _, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.Unique(time.Hour)); err != nil {
		t.Errorf("after success the lock is released: %v", err)
	}
	if _, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.TaskID("kept"), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ran", func() bool { return p.count() == 3 && idle(l) })
	if _, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, nil), asynq.TaskID("kept")); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("a retained task id must stay taken, got %v", err)
	}
}

// TestLocalTimeoutBoundsTheHandler: the handler's context carries the task's
// timeout, and asynq's 30 minutes when it has none.
func TestLocalTimeoutBoundsTheHandler(t *testing.T) {
	var got error
	done := make(chan struct{})
	k := jobs.Kind{Type: "test:slow", Options: []asynq.Option{asynq.Queue(jobs.QueueRAG), asynq.MaxRetry(0), asynq.Timeout(20 * time.Millisecond)},
		Handler: asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
			<-ctx.Done()
			got = ctx.Err()
			close(done)
			return ctx.Err()
		})}
	l := startLocal(t, jobs.LocalConfig{}, k)
	if _, err := l.Enqueue(context.Background(), asynq.NewTask("test:slow", nil)); err != nil {
		t.Fatal(err)
	}
	<-done
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("handler context ended with %v", got)
	}

	p := &probe{}
	l2 := startLocal(t, jobs.LocalConfig{}, p.kind())
	if _, err := l2.Enqueue(context.Background(), asynq.NewTask(typeProbe, nil)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ran", func() bool { return p.count() == 1 })
	if !p.last().deadline {
		t.Error("a task without Timeout or Deadline must still get asynq's default timeout")
	}
}

// TestLocalLifecycle: nothing is accepted before Start (under Lambda nobody
// starts it) or after Shutdown; Shutdown runs what was ready first.
func TestLocalLifecycle(t *testing.T) {
	p := &probe{gate: make(chan struct{})}
	l, err := jobs.NewLocal(jobs.LocalConfig{Concurrency: 1}, p.kind())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, nil)); !errors.Is(err, jobs.ErrNotStarted) {
		t.Fatalf("before Start: %v", err)
	}
	l.Start()
	for i := range 5 {
		if _, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, fmt.Appendf(nil, "%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	stopped := make(chan struct{})
	go func() { l.Shutdown(context.Background()); close(stopped) }()
	ready := 5
	waitFor(t, "closed to new tasks", func() bool {
		_, err := l.Enqueue(ctx, asynq.NewTask(typeProbe, nil))
		if err == nil {
			ready++ // accepted before Shutdown began
		}
		return errors.Is(err, jobs.ErrClosed)
	})
	close(p.gate)
	<-stopped
	if p.count() != ready {
		t.Fatalf("shutdown ran %d of the %d ready tasks", p.count(), ready)
	}
}

// TestLocalHonoursPriorities: with one worker and every queue full, the
// inference queue (weight 6) is served more often than billing (weight 1).
func TestLocalHonoursPriorities(t *testing.T) {
	var mu sync.Mutex
	var order []string
	gate := make(chan struct{})
	kind := func(typ, queue string) jobs.Kind {
		return jobs.Kind{Type: typ, Options: []asynq.Option{asynq.Queue(queue)}, Handler: asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
			<-gate
			mu.Lock()
			order = append(order, typ)
			mu.Unlock()
			return nil
		})}
	}
	l := startLocal(t, jobs.LocalConfig{Concurrency: 1}, kind("test:chat", jobs.QueueInference), kind("test:bill", jobs.QueueBilling))
	ctx := context.Background()
	for i := range 200 {
		for _, typ := range []string{"test:chat", "test:bill"} {
			if _, err := l.Enqueue(ctx, asynq.NewTask(typ, fmt.Appendf(nil, "%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(gate)
	waitFor(t, "all ran", func() bool { return idle(l) })
	first := map[string]int{}
	for _, typ := range order[:200] {
		first[typ]++
	}
	if first["test:chat"] <= first["test:bill"] {
		t.Fatalf("of the first 200 tasks, %d were inference and %d billing", first["test:chat"], first["test:bill"])
	}
}
