package lambda

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxPayload is Lambda's limit for a synchronous invocation's request and buffered
// response payloads (6 MB).
const maxPayload = 6 << 20

// Errors an invocation can end with.
var (
	errTimeout  = errors.New("task timed out")
	errCrashed  = errors.New("the function's process exited")
	errNoAnswer = errors.New("the function asked for its next event without answering this one")
)

// FunctionError is what the function reported through /invocation/{id}/error, or
// through the error trailers of a streamed response.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// invocation is one event on its way through an instance.
type invocation struct {
	id       string
	event    []byte
	streamed bool // invoked as a Function URL with RESPONSE_STREAM

	out     chan outcome // gets exactly one outcome: the response (start) or an error
	settled sync.Once

	done     chan struct{} // closed when the function has answered completely
	doneOnce sync.Once

	deadline time.Time // set when an instance takes it
}

// outcome is how an invocation began to answer.
type outcome struct {
	resp *response
	err  error
}

// response is a function's HTTP answer. A streamed body is a pipe fed by the
// instance's /response handler as the function writes.
type response struct {
	status  int
	header  http.Header
	cookies []string
	body    io.ReadCloser
}

func newInvocation(event []byte, streamed bool) *invocation {
	return &invocation{id: newID(), event: event, streamed: streamed, out: make(chan outcome, 1), done: make(chan struct{})}
}

// settle delivers the invocation's outcome; only the first call counts.
func (inv *invocation) settle(o outcome) bool {
	won := false
	inv.settled.Do(func() { inv.out <- o; won = true })
	if !won && o.resp != nil {
		o.resp.body.Close()
	}
	return won
}

// fail settles the invocation with err and marks it finished.
func (inv *invocation) fail(err error) {
	inv.settle(outcome{err: err})
	inv.finish()
}

// finish marks the invocation as completely answered.
func (inv *invocation) finish() { inv.doneOnce.Do(func() { close(inv.done) }) }

func (inv *invocation) finished() bool {
	select {
	case <-inv.done:
		return true
	default:
		return false
	}
}

// writeResponse sends resp to the client, flushing after every piece of a streamed
// body so nothing is held back. It returns the error that cut a stream short.
func writeResponse(w http.ResponseWriter, resp *response) error {
	defer resp.body.Close()
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	for _, c := range resp.cookies {
		h.Add("Set-Cookie", c)
	}
	w.WriteHeader(resp.status)
	rc := http.NewResponseController(w)
	rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client left; closing the body lets the instance drain the rest
			}
			rc.Flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// writeMessage answers the way API Gateway does for its own errors.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
