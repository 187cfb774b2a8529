//go:build unix

package bench

import (
	"runtime"
	"syscall"
	"time"
)

// cpuTime returns the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	cpu, _ := rusage()
	return cpu
}

// rusage returns this process's user plus system CPU time and its peak resident
// set size in bytes.
func rusage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	rss := ru.Maxrss * 1024 // kilobytes on Linux
	if runtime.GOOS == "darwin" {
		rss = ru.Maxrss // bytes on macOS
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), int64(rss)
}
