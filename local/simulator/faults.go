package simulator

import (
	"fmt"
	"net/http"
)

// Fault is a failure mode the simulator can be switched into, each one
// modelling a way real inference backends fail in production.
type Fault string

const (
	// FaultNone serves normally.
	FaultNone Fault = ""
	// FaultDown hijacks the connection and closes it without a response, so
	// the client sees a transport error, as when a backend process dies.
	// Applies to health checks and /v1/models too.
	FaultDown Fault = "down"
	// Fault500 answers 500 with an OpenAI-shaped error body. Applies to
	// health checks and /v1/models too.
	Fault500 Fault = "500"
	// Fault429 answers 429 with an OpenAI-shaped error body and
	// "Retry-After: 1", as an overloaded or rate-limited backend does.
	Fault429 Fault = "429"
	// FaultHang sends nothing and holds the request until the client goes
	// away, as a wedged GPU worker does; it exercises gateway timeouts.
	FaultHang Fault = "hang"
	// FaultCut starts a normal response and aborts the connection part way
	// through: streams stop after the role chunk and a few content chunks
	// without [DONE] or the chunked-encoding terminator, other responses
	// after half of their JSON body.
	FaultCut Fault = "cut"
	// FaultHalfEvent answers normally but for one broken event: streams send,
	// after a few content chunks, the first half of a chunk as a whole event
	// (then go on); other responses are the first half of their JSON, complete
	// as HTTP. A backend bug, or a proxy that splits events, looks like this.
	FaultHalfEvent Fault = "half-event"
)

// cutAfterTokens is how many token-carrying chunks a FaultCut stream sends
// before aborting, enough for a client to have started relaying output.
const cutAfterTokens = 3

// ParseFault converts the textual name of a fault ("", "none", "down",
// "500", "429", "hang", "cut" or "half-event") into a Fault, rejecting anything else so
// that a typo in a script or flag does not silently mean "no fault".
func ParseFault(s string) (Fault, error) {
	switch f := Fault(s); f {
	case FaultNone, FaultDown, Fault500, Fault429, FaultHang, FaultCut, FaultHalfEvent:
		return f, nil
	case "none":
		return FaultNone, nil
	}
	return FaultNone, fmt.Errorf("simulator: unknown fault %q (want none, down, 500, 429, hang, cut or half-event)", s)
}

// injectFault applies f to an inference request before any work is done and
// reports whether it has dealt with the request. FaultCut is not handled
// here: it needs a response in progress, so the handlers apply it.
func (x *exchange) injectFault(f Fault) bool {
	switch f {
	case FaultDown:
		abortConnection(x.w)
	case Fault500:
		writeError(x.w, errServer())
	case Fault429:
		x.w.Header().Set("Retry-After", "1")
		writeError(x.w, errRateLimited())
	case FaultHang:
		<-x.r.Context().Done()
		x.recordCancel()
	default:
		return false
	}
	return true
}

// injectServiceFault applies the faults that make the whole backend look
// unavailable to health checks and model listing, and reports whether it
// has dealt with the request. Overload-style faults (429, hang, cut) leave
// these endpoints healthy, as a busy but alive backend would.
func (s *Server) injectServiceFault(w http.ResponseWriter) bool {
	switch s.Fault() {
	case FaultDown:
		abortConnection(w)
	case Fault500:
		writeError(w, errServer())
	default:
		return false
	}
	return true
}

// abortConnection drops the client's connection without writing a response.
// Where hijacking is impossible (HTTP/2) aborting the handler resets the
// stream instead, which clients likewise see as a transport error.
func abortConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// abortResponse ends a response that is already under way so that the
// client sees a truncated body: net/http closes the connection without
// terminating the chunked encoding or completing the Content-Length.
func abortResponse(w http.ResponseWriter) {
	// Push out what has been written so the client really receives a
	// partial response rather than nothing at all.
	_ = http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}
