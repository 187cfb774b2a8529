//go:build !unix

package bench

import "time"

// cpuTime is unknown here; CPU per request is then reported as zero.
func cpuTime() time.Duration { return 0 }

// rusage is unknown here: zero CPU time and RSS.
func rusage() (time.Duration, int64) { return 0, 0 }
