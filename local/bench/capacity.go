package bench

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Capacity is a closed-loop run: Concurrency workers each send the next request as
// soon as their last one ended, so the targets run at saturation and the rate they
// reach is what the machine can serve through them. Targets take turns in blocks,
// in Load's order (A B B A …), so noise spreads over them evenly.
type Capacity struct {
	Targets     []string // base URLs
	Request     Request
	Concurrency int
	Block       time.Duration // length of one block
	Blocks      int           // blocks per target
	Client      *http.Client
	// FirstID is the request id of the first request; later ones count up.
	FirstID int
}

// CapacityResult is what one target reached.
type CapacityResult struct {
	// Done counts the requests that completed successfully within the target's
	// blocks; requests still running at a block's end finish unmeasured.
	Done, Errors int
	FirstError   string
	Active       time.Duration
}

// Rate is the target's throughput at saturation, in requests per second.
func (r CapacityResult) Rate() float64 {
	if r.Active <= 0 {
		return 0
	}
	return float64(r.Done) / r.Active.Seconds()
}

// Run runs every block and returns each target's result.
func (c Capacity) Run(ctx context.Context) ([]CapacityResult, error) {
	nt := len(c.Targets)
	res := make([]CapacityResult, nt)
	var id atomic.Int64
	id.Store(int64(c.FirstID))
	for k := range c.Blocks * nt {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		r := &res[blockTarget(k, nt)]
		url := c.Targets[blockTarget(k, nt)]
		start := time.Now()
		end := start.Add(c.Block)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range c.Concurrency {
			wg.Go(func() {
				done, errs, first := 0, 0, ""
				for now := time.Now(); now.Before(end) && ctx.Err() == nil; now = time.Now() {
					_, err := c.Request.Do(ctx, c.Client, url, int(id.Add(1)), now)
					switch {
					case err != nil:
						errs++
						if first == "" {
							first = err.Error()
						}
					case time.Now().Before(end):
						done++
					}
				}
				mu.Lock()
				r.Done, r.Errors = r.Done+done, r.Errors+errs
				if r.FirstError == "" {
					r.FirstError = first
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		r.Active += end.Sub(start)
	}
	return res, nil
}
