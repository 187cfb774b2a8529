package bench

import (
	"runtime"
	"time"
)

// waitUntil returns at due, give or take a few microseconds, without relying on
// the Go timer's precision (time.Sleep wakes about 0.6–1 ms late here): it sleeps
// coarsely until spinWindow before due, then yields in a loop. runtime.Gosched
// lets every runnable goroutine (the servers, the requests) run first, so the
// spin only uses CPU that nothing else wants.
func waitUntil(due time.Time) {
	for {
		d := time.Until(due)
		if d <= 0 {
			return
		}
		if d > spinWindow {
			coarseSleep(d - spinWindow)
			continue
		}
		runtime.Gosched()
	}
}
