package bench

import (
	"syscall"
	"time"
)

// spinWindow covers nanosleep's usual overshoot (timer slack 50 µs plus wake-up:
// p50 about 95 µs, p90 115 µs measured here). A rarer longer one makes a request
// leave a little late, which its latency includes whichever target it goes to;
// a wider window would burn more CPU in the spin on this 2-core machine.
const spinWindow = 150 * time.Microsecond

// coarseSleep blocks the thread in nanosleep(2), which wakes within about 0.1 ms,
// where the runtime's timers round sub-millisecond waits up to a millisecond.
func coarseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil) // EINTR only shortens the sleep; waitUntil loops
}
