package backend

import (
	"io"
	"math"
	"sync/atomic"
	"time"
)

// DefaultAlpha is the weight of a new sample in a backend's TTFB average: about
// the last five requests count, so a backend that slows down or recovers is seen
// within a handful of its answers.
const DefaultAlpha = 0.3

// Load is what the gateway observed of one backend: an exponentially weighted
// average of its time to first byte, and the requests it is serving now. The
// router reads it to pick among backends of one tier; it is safe for concurrent
// use and costs two atomics per request.
type Load struct {
	alpha    float64
	ewma     atomic.Uint64 // float64 bits, nanoseconds; 0 means no sample yet
	samples  atomic.Int64
	inflight atomic.Int64
}

func newLoad() *Load { return &Load{alpha: DefaultAlpha} }

// SetAlpha sets the weight of a new sample (0 < alpha <= 1); tests use 1 to make
// the average the last sample.
func (l *Load) SetAlpha(alpha float64) {
	if alpha > 0 && alpha <= 1 {
		l.alpha = alpha
	}
}

// Observe adds a time-to-first-byte sample.
func (l *Load) Observe(d time.Duration) {
	l.samples.Add(1)
	x := float64(max(d, 1))
	for {
		old := l.ewma.Load()
		next := x
		if old != 0 {
			prev := math.Float64frombits(old)
			next = prev + l.alpha*(x-prev)
		}
		if l.ewma.CompareAndSwap(old, math.Float64bits(next)) {
			return
		}
	}
}

// TTFB returns the average time to first byte; 0 before the first sample.
func (l *Load) TTFB() time.Duration { return time.Duration(math.Float64frombits(l.ewma.Load())) }

// Samples returns how many samples were observed.
func (l *Load) Samples() int64 { return l.samples.Load() }

// InFlight returns the requests the backend is serving now.
func (l *Load) InFlight() int64 { return l.inflight.Load() }

// Begin counts a request in flight; End counts it out.
func (l *Load) Begin() { l.inflight.Add(1) }

// End counts a request out (see Begin).
func (l *Load) End() { l.inflight.Add(-1) }

// firstByte wraps a response body and reports the time to its first byte.
type firstByte struct {
	io.ReadCloser
	start time.Time
	load  *Load
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && f.load != nil {
		f.load.Observe(time.Since(f.start))
		f.load = nil
	}
	return n, err
}
