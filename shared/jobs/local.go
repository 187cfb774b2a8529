package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors of the in-process runner's Enqueue.
var (
	// ErrNotStarted: nobody started the runner. Under Lambda nobody does, as nothing
	// may run between invocations: jobs there need REDIS_URL.
	ErrNotStarted = errors.New("jobs: the in-process runner is not started (under Lambda, jobs need REDIS_URL)")
	// ErrClosed: the runner is shutting down.
	ErrClosed = errors.New("jobs: the in-process runner is shut down")
	// ErrGroupUnsupported: task aggregation (asynq.Group) needs Redis.
	ErrGroupUnsupported = errors.New("jobs: asynq.Group needs Redis")
)

// LocalConfig tunes the in-process runner; zero values mean the defaults.
type LocalConfig struct {
	// Concurrency is how many jobs run at once over all queues (4).
	Concurrency int
	// Metrics is where the job instruments go (none when nil).
	Metrics prometheus.Registerer
	// RetryDelay is the backoff (jobs.RetryDelay, as on the workers).
	RetryDelay func(n int, err error, t *asynq.Task) time.Duration
}

// Local runs jobs in this process without Redis — the embedded default — with the
// rules of asynq's server: Concurrency workers, each taking its next task from a
// queue picked at random by the Queues weights; a failed task retried after
// RetryDelay until MaxRetry, at once archived on asynq.SkipRetry, dropped on
// asynq.RevokeTask; Unique(ttl) held until the task succeeds or the ttl ends;
// TaskID refused while the task lives or is retained; Timeout and Deadline on
// the handler's context (30 min when neither is set); a panic is a failure.
//
// Unlike Redis it keeps nothing across restarts and has no archive: a task that
// gives up is logged and counted, and its id is kept for its Retention. Handlers
// get no asynq.ResultWriter and no asynq.GetTaskID; they must not need them.
type Local struct {
	reg     registry
	handler asynq.Handler
	workers int
	weights map[string]int // Queues()
	delay   func(int, error, *asynq.Task) time.Duration

	base   context.Context // the handlers' parent: cancelled when a drain runs out of time
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	cond   *sync.Cond
	state  int // stateNew, stateRunning, stateClosing
	ready  map[string][]*entry
	nready int
	active int
	timers map[*entry]*time.Timer // tasks waiting for a retry or their start time
	ids    map[string]time.Time   // queue+id -> kept until (zero: the task lives)
	unique map[string]uniqueLock  // queue+type+payload -> holder
	pruned time.Time
}

const (
	stateNew = iota
	stateRunning
	stateClosing
)

// entry is one enqueued task and its composed options.
type entry struct {
	task      *asynq.Task
	p         plan
	uniqueKey string
	retried   int
}

type uniqueLock struct {
	id    string
	until time.Time
}

// NewLocal returns a stopped runner of kinds; Start starts it.
func NewLocal(cfg LocalConfig, kinds ...Kind) (*Local, error) {
	reg, err := newRegistry(kinds)
	if err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = RetryDelay
	}
	l := &Local{reg: reg, handler: handler(cfg.Metrics, kinds), workers: cfg.Concurrency, weights: Queues(), delay: cfg.RetryDelay,
		ready: map[string][]*entry{}, timers: map[*entry]*time.Timer{}, ids: map[string]time.Time{}, unique: map[string]uniqueLock{}}
	l.cond = sync.NewCond(&l.mu)
	l.base, l.cancel = context.WithCancel(context.Background())
	return l, nil
}

// Start starts the workers. Tasks enqueued before are refused (ErrNotStarted),
// never kept where nothing would run them.
func (l *Local) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateNew {
		return
	}
	l.state = stateRunning
	for range l.workers {
		l.wg.Add(1)
		go l.work()
	}
}

// Shutdown refuses new tasks, drops those waiting for a retry or a later start
// (logged), runs the ready ones to the end and waits for the workers. When ctx
// ends first, the running handlers' contexts are cancelled and it waits for them
// to return. It may be called more than once.
func (l *Local) Shutdown(ctx context.Context) {
	l.mu.Lock()
	l.state = stateClosing
	dropped := len(l.timers)
	for e, tm := range l.timers {
		tm.Stop()
		delete(l.timers, e)
	}
	l.cond.Broadcast()
	l.mu.Unlock()
	if dropped > 0 {
		slog.Warn("in-process jobs dropped at shutdown: they were waiting for a retry or a later start", "count", dropped)
	}
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		l.mu.Lock()
		if l.nready > 0 {
			slog.Warn("in-process jobs dropped at shutdown: no time left to run them", "count", l.nready)
		}
		clear(l.ready)
		l.nready = 0
		l.mu.Unlock()
		l.cancel()
		<-done
	}
	l.cancel()
}

// Enqueue queues t with its kind's options, then opts.
func (l *Local) Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	t, _, p, err := l.reg.prepare(ctx, t, opts)
	if err != nil {
		return nil, err
	}
	if p.group != "" {
		return nil, ErrGroupUnsupported
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case stateNew:
		return nil, ErrNotStarted
	case stateClosing:
		return nil, ErrClosed
	}
	l.prune(now)
	idKey := p.queue + "\x00" + p.taskID
	if until, taken := l.ids[idKey]; taken && (until.IsZero() || now.Before(until)) {
		return nil, fmt.Errorf("%w", asynq.ErrTaskIDConflict)
	}
	e := &entry{task: t, p: p}
	if p.unique > 0 {
		e.uniqueKey = p.queue + "\x00" + t.Type() + "\x00" + string(t.Payload())
		if u, held := l.unique[e.uniqueKey]; held && now.Before(u.until) {
			return nil, fmt.Errorf("%w", asynq.ErrDuplicateTask)
		}
		l.unique[e.uniqueKey] = uniqueLock{id: p.taskID, until: now.Add(p.unique)}
	}
	l.ids[idKey] = time.Time{}
	info := &asynq.TaskInfo{ID: p.taskID, Queue: p.queue, Type: t.Type(), Payload: t.Payload(), Headers: t.Headers(),
		MaxRetry: p.maxRetry, Timeout: p.timeout, Deadline: p.deadline, Retention: p.retention}
	if p.processAt.After(now) {
		l.later(e, p.processAt.Sub(now))
		info.State, info.NextProcessAt = asynq.TaskStateScheduled, p.processAt
	} else {
		l.push(e)
		info.State, info.NextProcessAt = asynq.TaskStatePending, now
	}
	return info, nil
}

// Stats counts the runner's unfinished tasks.
type Stats struct {
	// Waiting counts, per queue, tasks ready, scheduled or waiting for a retry
	// (what spass_queue_depth reports).
	Waiting map[string]int
	// Active counts tasks running now.
	Active int
}

// Stats returns the current counts.
func (l *Local) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{Waiting: map[string]int{}, Active: l.active}
	for q, es := range l.ready {
		s.Waiting[q] += len(es)
	}
	for e := range l.timers {
		s.Waiting[e.p.queue]++
	}
	return s
}

// push makes e ready and wakes a worker. l.mu is held.
func (l *Local) push(e *entry) {
	l.ready[e.p.queue] = append(l.ready[e.p.queue], e)
	l.nready++
	l.cond.Signal()
}

// later makes e ready after d, unless the runner is shut down by then. l.mu is held.
func (l *Local) later(e *entry, d time.Duration) {
	l.timers[e] = time.AfterFunc(d, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.timers[e]; !ok {
			return // dropped by Shutdown
		}
		delete(l.timers, e)
		l.push(e)
	})
}

// work runs ready tasks until the runner closes and none is left.
func (l *Local) work() {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		for l.nready == 0 && l.state != stateClosing {
			l.cond.Wait()
		}
		if l.nready == 0 {
			l.mu.Unlock()
			return
		}
		e := l.pick()
		l.active++
		l.mu.Unlock()
		l.finish(e, l.process(e))
	}
}

// pick takes the next task from a non-empty queue chosen at random in proportion
// to the Queues weights, as asynq's server does by default. l.mu is held.
func (l *Local) pick() *entry {
	names := make([]string, 0, len(l.ready))
	total := 0
	for q, es := range l.ready {
		if len(es) > 0 {
			names = append(names, q)
			total += l.weights[q]
		}
	}
	slices.Sort(names)
	n := rand.IntN(total)
	q := names[len(names)-1]
	for _, name := range names {
		if n -= l.weights[name]; n < 0 {
			q = name
			break
		}
	}
	e := l.ready[q][0]
	l.ready[q][0] = nil
	l.ready[q] = l.ready[q][1:]
	l.nready--
	return e
}

// process runs one attempt of e under its timeout and deadline; a panic is an error.
func (l *Local) process(e *entry) (err error) {
	ctx := context.WithValue(l.base, attemptKey{}, attempt{id: e.p.taskID, queue: e.p.queue, retried: e.retried, maxRetry: e.p.maxRetry})
	timeout := e.p.timeout
	if timeout == 0 && e.p.deadline.IsZero() {
		timeout = defaultTimeout
	}
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if !e.p.deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, e.p.deadline)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return l.handler.ProcessTask(ctx, e.task)
}

// finish records the outcome of e's attempt: done, archived, or retried later.
func (l *Local) finish(e *entry, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	now := time.Now()
	switch {
	case err == nil || errors.Is(err, asynq.RevokeTask):
		if u, ok := l.unique[e.uniqueKey]; ok && u.id == e.p.taskID {
			delete(l.unique, e.uniqueKey) // asynq releases the lock on success
		}
		l.keepID(e, now)
	case errors.Is(err, asynq.SkipRetry) || e.retried >= e.p.maxRetry:
		l.keepID(e, now) // the unique lock stays until its ttl, as for asynq's archive
	case l.state == stateClosing:
		slog.Warn("in-process job dropped at shutdown before its retry", "job", e.task.Type(), "task_id", e.p.taskID, "err", err)
		l.keepID(e, now)
	default:
		d := l.delay(e.retried, err, e.task)
		e.retried++
		l.later(e, d)
	}
}

// keepID keeps e's id taken for its retention after it finished. l.mu is held.
func (l *Local) keepID(e *entry, now time.Time) {
	key := e.p.queue + "\x00" + e.p.taskID
	if e.p.retention > 0 {
		l.ids[key] = now.Add(e.p.retention)
	} else {
		delete(l.ids, key)
	}
}

// prune forgets expired ids and unique locks, at most once a minute. l.mu is held.
func (l *Local) prune(now time.Time) {
	if now.Sub(l.pruned) < time.Minute {
		return
	}
	l.pruned = now
	for k, until := range l.ids {
		if !until.IsZero() && now.After(until) {
			delete(l.ids, k)
		}
	}
	for k, u := range l.unique {
		if now.After(u.until) {
			delete(l.unique, k)
		}
	}
}
