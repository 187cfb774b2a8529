//go:build !linux

package bench

import "time"

// spinWindow covers time.Sleep's overshoot of up to a millisecond or two.
const spinWindow = 2 * time.Millisecond

func coarseSleep(d time.Duration) { time.Sleep(d) }
