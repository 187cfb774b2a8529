package bench

import (
	"slices"
	"time"
)

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted:
// the smallest value that at least p % of the values are less than or equal to.
// It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p/100 * n), computed in integers of 1e-6 % so that p = 99 of
	// 100 values is rank 99 exactly, not 99.00000000000001 rounded up to 100.
	rank := (int64(p*1e6+0.5)*int64(n) + 100e6 - 1) / 100e6
	return sorted[min(max(rank, 1), int64(n))-1]
}

// Summary is the distribution of one set of latencies.
type Summary struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summarize sorts ds in place and returns its percentiles.
func Summarize(ds []time.Duration) Summary {
	slices.Sort(ds)
	s := Summary{N: len(ds), P50: Percentile(ds, 50), P90: Percentile(ds, 90), P99: Percentile(ds, 99)}
	if len(ds) > 0 {
		s.Max = ds[len(ds)-1]
	}
	return s
}
