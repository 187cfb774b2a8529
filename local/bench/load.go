package bench

import (
	"context"
	"math"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// Load is one open-loop run: requests leave at fixed intervals whatever the
// targets' latency, and each is timed from its scheduled send time, so a stall
// shows up in the latency of every request it delays (no coordinated omission).
//
// Time is cut into blocks, and consecutive blocks go to the targets in turn, in
// the order A B B A A B B A … for two targets. Each target therefore sees the full
// rate whenever it is measured, alone, while machine noise (other processes, GC,
// thermal drift) spreads evenly over the targets instead of landing on whichever
// phase happened to run second.
type Load struct {
	Targets  []string      // base URLs
	Request  Request       // the request sent to every target
	Rate     float64       // requests per second while a target is active
	Duration time.Duration // measured time per target
	Block    time.Duration // length of one block
	Client   *http.Client
	// Upstream, if set, is the targets' common upstream; it gives each stream's
	// Tail.
	Upstream *Stamper
}

// TargetResult is what one target of a Load measured.
type TargetResult struct {
	Sent   int
	Errors int
	// FirstError is the first failure's message, to say why there were errors.
	FirstError string
	// Active is the wall time of this target's blocks; CPU the process CPU time
	// used during them (both servers and the load generator).
	Active, CPU time.Duration
	// Total, TTFB and Tail hold the successful requests' latencies; TTFB and
	// Tail streams only. Tail is from the upstream's end of the answer to the
	// client's last byte.
	Total, TTFB, Tail []time.Duration
}

// Rate is the achieved request rate while the target was active.
func (t TargetResult) Rate() float64 {
	if t.Active <= 0 {
		return 0
	}
	return float64(t.Sent) / t.Active.Seconds()
}

// CPUPerRequest is the process CPU time per request sent to the target.
func (t TargetResult) CPUPerRequest() time.Duration {
	if t.Sent == 0 {
		return 0
	}
	return t.CPU / time.Duration(t.Sent)
}

// LoadResult is the outcome of a Load.
type LoadResult struct {
	Targets []TargetResult
	// Lag is how late requests actually left relative to their schedule.
	Lag Summary
}

type record struct {
	target int
	timing Timing
	err    error
}

// Run sends the load and waits for every request to finish. It stops early, with
// ctx's error, when ctx ends.
func (l Load) Run(ctx context.Context) (LoadResult, error) {
	nt := len(l.Targets)
	perBlock := max(1, int(math.Round(l.Block.Seconds()*l.Rate)))
	blocks := max(1, int(math.Round(float64(l.Duration)/float64(l.Block)))) * nt
	interval := float64(time.Second) / l.Rate
	due := func(start time.Time, i int) time.Time { return start.Add(time.Duration(float64(i) * interval)) }

	recs := make([]record, blocks*perBlock)
	lags := make([]time.Duration, 0, len(recs))
	marks := make([]time.Time, blocks+1) // actual start of each block, then the end
	cpus := make([]time.Duration, blocks+1)
	var wg sync.WaitGroup
	if l.Upstream != nil {
		l.Upstream.Reset()
	}
	start := time.Now().Add(time.Millisecond)
	sent := 0
dispatch:
	for k := range blocks {
		tgt := blockTarget(k, nt)
		for j := range perBlock {
			i := k*perBlock + j
			at := due(start, i)
			waitUntil(at)
			if ctx.Err() != nil {
				break dispatch
			}
			now := time.Now()
			lags = append(lags, now.Sub(at))
			wg.Add(1)
			go func() {
				defer wg.Done()
				t, err := l.Request.Do(ctx, l.Client, l.Targets[tgt], i, at)
				recs[i] = record{target: tgt, timing: t, err: err}
			}()
			sent++
			if j == 0 {
				marks[k], cpus[k] = now, cpuTime()
			}
			runtime.Gosched() // let the request start now, before the next sleep
		}
	}
	if ctx.Err() == nil {
		waitUntil(due(start, len(recs))) // the last block lasts as long as the others
	}
	done := sent / perBlock
	if sent%perBlock != 0 {
		done++
	}
	marks[done] = time.Now()
	wg.Wait()
	cpus[done] = cpuTime()

	res := LoadResult{Targets: make([]TargetResult, nt), Lag: Summarize(lags)}
	for k := range done {
		t := &res.Targets[blockTarget(k, nt)]
		t.Active += marks[k+1].Sub(marks[k])
		t.CPU += cpus[k+1] - cpus[k]
	}
	for i, r := range recs[:sent] {
		t := &res.Targets[r.target]
		t.Sent++
		if r.err != nil {
			t.Errors++
			if t.FirstError == "" {
				t.FirstError = r.err.Error()
			}
			continue
		}
		t.Total = append(t.Total, r.timing.Total)
		if !l.Request.Stream {
			continue
		}
		t.TTFB = append(t.TTFB, r.timing.TTFB)
		if l.Upstream != nil {
			if end, ok := l.Upstream.End(i); ok {
				t.Tail = append(t.Tail, due(start, i).Add(r.timing.Total).Sub(end))
			}
		}
	}
	return res, ctx.Err()
}

// blockTarget returns the target of block k: 0 1 1 0 0 1 1 0 … for two targets,
// and in general each round of n blocks visits the targets forwards, the next
// round backwards, so that linear drift favours none of them.
func blockTarget(k, n int) int {
	round, pos := k/n, k%n
	if round%2 == 1 {
		return n - 1 - pos
	}
	return pos
}
