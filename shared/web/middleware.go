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
// fill, one Observe call and one request log line per request (see accessLog; a nil
// log means slog.Default()). Route labels come from the ServeMux pattern, so metrics
// and logs never carry raw paths.
func Middleware(obs Observer, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{rec: Recorder{ResponseWriter: w}}
		tr, rec := &st.tr, &st.rec
		tr.RequestID = requestid.New()
		st.id[0] = tr.RequestID
		w.Header()[RequestIDHeader] = st.id[:]
		noteRequestID(r.Context(), tr.RequestID)
		r = r.WithContext(requestid.With(WithTrace(r.Context(), tr), tr.RequestID))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger(log).Error("panic", "request_id", tr.RequestID, "panic", p)
				if !rec.Started() {
					apierr.E(apierr.Internal, "", nil).Write(rec)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			if obs != nil {
				obs.Observe(route, tr.Model, tr.Backend, rec.Status, d)
			}
			accessLog(logger(log), r, route, tr, rec, d)
		}()
		next.ServeHTTP(rec, r)
	})
}

// logger is log, or the process's default logger.
func logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.Default()
	}
	return log
}

// requestState is what the middleware keeps per request, in one allocation.
type requestState struct {
	tr  Trace
	rec Recorder
	id  [1]string // the request id header's value
}
