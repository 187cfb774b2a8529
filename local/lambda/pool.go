package lambda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults for a Function's zero fields.
const (
	defaultTimeout     = 30 * time.Second
	defaultMemoryMB    = 128
	defaultConcurrency = 16
)

// pool holds a function's instances. An idle instance is one whose /next request is
// blocked receiving from work, so handing an invocation to any idle instance is one
// channel send. A request finding none idle waits for a spare one (idle, or done
// answering and about to ask for work) or, when there is none, starts a new instance
// (a cold start) if the function is below its concurrency: one invocation at a time
// per instance, and no cold start just because a warm instance was a moment late.
type pool struct {
	fn      Function
	e       *Emulator
	work    chan *invocation
	closing chan struct{}

	mu      sync.Mutex
	live    map[*instance]struct{}
	spare   int           // instances idle or about to be
	changed chan struct{} // closed (and replaced) when spare drops or an instance dies
	started int
	closed  bool
}

func newPool(fn Function, e *Emulator) *pool {
	if fn.Timeout <= 0 {
		fn.Timeout = defaultTimeout
	}
	if fn.MemoryMB <= 0 {
		fn.MemoryMB = defaultMemoryMB
	}
	if fn.MaxConcurrency <= 0 {
		fn.MaxConcurrency = defaultConcurrency
	}
	return &pool{fn: fn, e: e, work: make(chan *invocation), closing: make(chan struct{}),
		live: map[*instance]struct{}{}, changed: make(chan struct{})}
}

// dispatch hands inv to an instance. It fails when the instance started for it dies
// before asking for work (an init error), or when no instance frees up in time.
func (p *pool) dispatch(ctx context.Context, inv *invocation) error {
	ctx, cancel := withDispatchTimeout(ctx)
	defer cancel()
	var fresh *instance // the instance this request started, if any
	for {
		select {
		case p.work <- inv:
			return nil
		default:
		}
		changed, err := p.reserve(&fresh)
		if err != nil {
			return fmt.Errorf("starting an instance: %w", err)
		}
		var freshExited <-chan struct{}
		if fresh != nil {
			freshExited = fresh.exited
		}
		select {
		case p.work <- inv:
			return nil
		case <-changed: // a spare instance was taken or died: look again
		case <-freshExited:
			if err := fresh.initFailure(); err != nil {
				return err
			}
			fresh = nil // it served others before dying
		case <-p.closing:
			return errors.New("the emulator is shutting down")
		case <-ctx.Done():
			return fmt.Errorf("no free instance of %s (at most %d): %w", p.fn.Name, p.fn.MaxConcurrency, ctx.Err())
		}
	}
}

// reserve starts an instance for a waiting request when no spare one is coming and
// the request has not started one yet. It returns the channel that signals a change
// worth looking again for.
func (p *pool) reserve(fresh **instance) (<-chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *fresh == nil && p.spare == 0 && !p.closed && len(p.live) < p.fn.MaxConcurrency {
		p.started++
		in := newInstance(p, p.started)
		if err := in.start(); err != nil {
			return nil, err
		}
		p.live[in] = struct{}{}
		*fresh = in
	}
	return p.changed, nil
}

// setSpare records that in will (true) or will no longer (false) take work soon.
func (p *pool) setSpare(in *instance, spare bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setSpareLocked(in, spare)
}

func (p *pool) setSpareLocked(in *instance, spare bool) {
	if in.spare == spare {
		return
	}
	in.spare = spare
	if spare {
		p.spare++
		return
	}
	p.spare--
	p.broadcast()
}

// broadcast wakes every waiting dispatch.
func (p *pool) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// remove forgets an instance whose process has exited.
func (p *pool) remove(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setSpareLocked(in, false)
	delete(p.live, in)
	p.broadcast()
}

func (p *pool) startedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

// close stops every instance and waits for their processes to exit.
func (p *pool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.closing)
	var ins []*instance
	for in := range p.live {
		ins = append(ins, in)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		go func() { defer wg.Done(); in.stop() }()
	}
	wg.Wait()
}

// arn is the function's ARN as Lambda would name it in a default account.
func (p *pool) arn() string {
	return "arn:aws:lambda:" + region + ":" + accountID + ":function:" + p.fn.Name
}

// The emulated account and region.
const (
	region    = "us-east-1"
	accountID = "000000000000"
)

// dispatchTimeout bounds how long a request waits for a free instance.
const dispatchTimeout = 60 * time.Second

func withDispatchTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, dispatchTimeout)
}
