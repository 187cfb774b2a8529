package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// inflight is the set of requests the server is running, so that a shutdown can
// wait for their handlers and name the ones its deadline cut.
type inflight struct {
	mu    sync.Mutex
	reqs  map[*running]struct{}
	empty chan struct{} // closed when reqs becomes empty; nil while nobody waits
}

// running is one request in flight: what the shutdown log says about it.
type running struct {
	method, path string
	start        time.Time
	id           atomic.Pointer[string] // set by Middleware
}

type runningKey struct{}

// noteRequestID tells the server loop the request id Middleware gave the request
// of ctx, for the shutdown log; a no-op outside ServeWith.
func noteRequestID(ctx context.Context, id string) {
	if r, ok := ctx.Value(runningKey{}).(*running); ok {
		r.id.Store(&id)
	}
}

// track wraps next so that every request is in the set while its handler runs.
func (f *inflight) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run := &running{method: r.Method, path: r.URL.Path, start: time.Now()}
		f.mu.Lock()
		if f.reqs == nil {
			f.reqs = map[*running]struct{}{}
		}
		f.reqs[run] = struct{}{}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.reqs, run)
			if len(f.reqs) == 0 && f.empty != nil {
				close(f.empty)
				f.empty = nil
			}
			f.mu.Unlock()
		}()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), runningKey{}, run)))
	})
}

// logCut writes one warn line per request still running when the shutdown
// deadline passed, and returns how many there were.
func (f *inflight) logCut(log *slog.Logger, deadline time.Duration) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for run := range f.reqs {
		id := ""
		if p := run.id.Load(); p != nil {
			id = *p
		}
		log.Warn("shutdown cut a request", "request_id", id, "method", run.method, "path", run.path,
			"running_ms", time.Since(run.start).Milliseconds(), "shutdown_timeout", deadline.String())
	}
	return len(f.reqs)
}

// wait waits for every handler to return, at most d; it reports whether they did.
func (f *inflight) wait(d time.Duration) bool {
	f.mu.Lock()
	if len(f.reqs) == 0 {
		f.mu.Unlock()
		return true
	}
	if f.empty == nil {
		f.empty = make(chan struct{})
	}
	done := f.empty
	f.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// count returns how many requests are running.
func (f *inflight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}
