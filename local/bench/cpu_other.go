//go:build !unix

package bench

import "time"

// cpuTime is unknown here; CPU per request is then reported as zero.
func cpuTime() time.Duration { return 0 }
