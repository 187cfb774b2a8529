// Package web holds the HTTP plumbing every endpoint group shares: handlers that
// return errors, one adapter that turns them into catalog responses, body reading,
// request ids, recovery, logging and per-request trace data for metrics, and the
// server loop with its limits on slow, idle and numerous clients (serve.go).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"spass/shared/apierr"
)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// MaxBody bounds request bodies (vision requests carry base64 images).
const MaxBody = 32 << 20

// Handle adapts h: a returned error becomes the catalog's OpenAI-shaped body when
// nothing was written yet; the cause goes to the log only.
func Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, err)
		}
	})
}

// WriteError writes err as a catalog error unless the response already started, and
// logs the cause.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.From(err)
	tr := TraceFrom(r.Context())
	if tr != nil {
		tr.Code = e.Code
	}
	if e.Code != apierr.ClientClosed && (e.Cause != nil || e.Status() >= 500) {
		slog.Warn("request failed", "request_id", tr.ID(), "code", e.Code, "cause", e.Cause)
	}
	if rec, ok := w.(*Recorder); ok && rec.Started() {
		return
	}
	e.Write(w)
}

// ReadBody reads the whole request body, bounded by MaxBody and by the server's
// body deadline (Limits.Body).
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		return nil, BodyError(err)
	}
	return b, nil
}

// BodyError maps an error reading a request body to the catalog: past the size
// limit is 413, past the read deadline 408, anything else 400.
func BodyError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return apierr.E(apierr.BodyTooLarge, "", nil)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return apierr.E(apierr.RequestTimeout, "", nil) // counted and logged by the server loop
	}
	return apierr.E(apierr.InvalidRequest, "The request body could not be read.", err)
}

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// Saved writes v, what an upsert stored: 201 when it created it, else 200.
func Saved(w http.ResponseWriter, created bool, v any) error {
	if created {
		return JSON(w, http.StatusCreated, v)
	}
	return JSON(w, http.StatusOK, v)
}

// NotFound answers unknown routes with the catalog's not_found.
func NotFound() http.Handler {
	return Handle(func(w http.ResponseWriter, r *http.Request) error {
		return apierr.E(apierr.NotFound, "", nil)
	})
}

type traceKey struct{}

// Trace carries what a handler learnt about a request (who asked, which model and
// backend served it, its tokens) back to the middleware, which records its metrics
// and writes its one request log line (accesslog.go). It never holds a token, a
// prompt or an answer.
type Trace struct {
	RequestID string
	// Tenant and User are the principal's (set by auth once the token is checked).
	Tenant, User string
	Model        string
	Backend      string
	// Tier and Fallbacks say where in the model's chain the answer came from.
	Tier, Fallbacks int
	// PromptTokens and CompletionTokens are the usage of every model round.
	PromptTokens, CompletionTokens int64
	// Stream is set for a request answered as a stream.
	Stream bool
	Code   apierr.Code
}

// ID returns the request id, safe on a nil Trace.
func (t *Trace) ID() string {
	if t == nil {
		return ""
	}
	return t.RequestID
}

// TraceFrom returns the request's trace, or nil outside the middleware.
func TraceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// WithTrace returns ctx carrying t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// QueryLimit reads ?limit= for list routes: def when absent, otherwise 1..most.
func QueryLimit(r *http.Request, def, most int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, apierr.P(apierr.InvalidQuery, "limit", "limit must be an integer from 1 to "+strconv.Itoa(most)+".")
	}
	return n, nil
}

// QuerySeq reads ?after= for routes paged by a message seq: 0 when absent.
func QuerySeq(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("after")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, apierr.P(apierr.InvalidQuery, "after", "after must be a message seq (an integer).")
	}
	return n, nil
}
