package bench

import (
	"syscall"
	"time"
)

// spinWindow covers nanosleep's overshoot (timer slack 50 µs; p99 about 150 µs
// measured here).
const spinWindow = 250 * time.Microsecond

// coarseSleep blocks the thread in nanosleep(2), which wakes within about 0.1 ms,
// where the runtime's timers round sub-millisecond waits up to a millisecond.
func coarseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil) // EINTR only shortens the sleep; waitUntil loops
}
