package simulator

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds request bodies; generous because vision requests carry
// base64-encoded images inline.
const maxBodyBytes = 64 << 20

// exchange is one inference request in flight together with the state the
// simulator keeps about it.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	seq  int64  // 1-based arrival order, used to make response ids unique
	body []byte // the raw request body
	cut  bool   // FaultCut was active when the request arrived
	half bool   // FaultHalfEvent was

	s         *Server
	cancelled bool // already counted in Server.cancelled
}

// inference wraps an inference endpoint with what all of them share: the
// request is counted and recorded, then subjected to the current fault, then
// to authentication, and only then handed to h.
func (s *Server) inference(h func(*exchange)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &exchange{w: w, r: r, s: s, seq: s.requests.Add(1)}

		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		x.body = body
		s.setLastRequest(body)
		if err != nil {
			if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeError(w, errRequestTooLarge(maxErr.Limit))
				return
			}
			// The client went away (or broke the framing) while sending.
			x.recordCancel()
			return
		}

		fault := s.Fault()
		if x.injectFault(fault) {
			return
		}
		if !s.authorized(r) {
			writeError(w, errUnauthorized())
			return
		}
		x.cut, x.half = fault == FaultCut, fault == FaultHalfEvent
		h(x)
	})
}

// authorized reports whether r carries the configured API key, if any, as
// a bearer token (the scheme name is case-insensitive, per RFC 9110).
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.APIKey == "" {
		return true
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.APIKey)) == 1
}

// checkModel returns the error for a request naming model, if any.
func (s *Server) checkModel(model string) (apiError, bool) {
	switch {
	case model == "":
		return errMissingParam("model"), false
	case !s.serves(model):
		return errModelNotFound(model), false
	}
	return apiError{}, true
}

func (x *exchange) fail(e apiError) { writeError(x.w, e) }

// respond writes v as the successful JSON response or, under FaultCut, the
// first half of it before aborting the connection.
func (x *exchange) respond(v any) {
	body, err := prepareJSON(x.w, v)
	if err != nil {
		return
	}
	if x.cut {
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(body[:len(body)/2])
		abortResponse(x.w)
	}
	if x.half {
		body = body[:len(body)/2]
		x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	if _, err := x.w.Write(body); err != nil {
		x.recordCancel()
	}
}

// recordCancel counts the request as abandoned by its client, once.
func (x *exchange) recordCancel() {
	if !x.cancelled {
		x.cancelled = true
		x.s.cancelled.Add(1)
	}
}

// clientGone reports whether the client has abandoned the request, counting
// it if so.
func (x *exchange) clientGone() bool {
	if x.r.Context().Err() != nil {
		x.recordCancel()
		return true
	}
	return false
}

// wait simulates d of generation time and reports whether the client is
// still there afterwards. A zero d never touches a timer.
func (x *exchange) wait(d time.Duration) bool {
	if d <= 0 {
		return !x.clientGone()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !x.clientGone()
	case <-x.r.Context().Done():
		x.recordCancel()
		return false
	}
}
