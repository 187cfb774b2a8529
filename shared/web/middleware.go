package web

import (
	"log/slog"
	"net/http"
	"time"

	"spass/shared/apierr"
	"spass/shared/requestid"
)

// Observer receives one call per finished request (metrics).
type Observer interface {
	Observe(route, model, backend string, status int, d time.Duration)
}

// RequestIDHeader is the response header carrying the request id.
const RequestIDHeader = "SPASS-Request-Id"

// Middleware wraps next with request ids, panic recovery, a trace for the handler to
// fill, and one Observe call per request. Route labels come from the ServeMux
// pattern, so metrics never carry raw paths.
func Middleware(obs Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{rec: Recorder{ResponseWriter: w}}
		tr, rec := &st.tr, &st.rec
		tr.RequestID = requestid.New()
		st.id[0] = tr.RequestID
		w.Header()[RequestIDHeader] = st.id[:]
		r = r.WithContext(requestid.With(WithTrace(r.Context(), tr), tr.RequestID))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.Error("panic", "request_id", tr.RequestID, "panic", p)
				if !rec.Started() {
					apierr.E(apierr.Internal, "", nil).Write(rec)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if obs != nil {
				obs.Observe(route, tr.Model, tr.Backend, rec.Status, time.Since(start))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestState is what the middleware keeps per request, in one allocation.
type requestState struct {
	tr  Trace
	rec Recorder
	id  [1]string // the request id header's value
}
