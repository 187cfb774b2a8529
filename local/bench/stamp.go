package bench

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// idMarker precedes a request's id in the system message: the one place of the
// body that every path forwards verbatim. The id has a fixed width so that all
// bodies are the same size.
const (
	idMarker = "Request #"
	idDigits = 9
)

// withID returns a copy of body with its id placeholder set to id.
func withID(body []byte, id int) []byte {
	out := bytes.Clone(body)
	if i := bytes.Index(out, []byte(idMarker)); i >= 0 {
		digits := strconv.AppendInt(nil, int64(id), 10)
		field := out[i+len(idMarker) : i+len(idMarker)+idDigits]
		for j := range field {
			field[j] = '0'
		}
		copy(field[idDigits-len(digits):], digits)
	}
	return out
}

// parseID returns the id withID wrote into body.
func parseID(body []byte) (int, bool) {
	i := bytes.Index(body, []byte(idMarker))
	if i < 0 || len(body) < i+len(idMarker)+idDigits {
		return 0, false
	}
	id, err := strconv.Atoi(string(body[i+len(idMarker) : i+len(idMarker)+idDigits]))
	return id, err == nil
}

// Stamper wraps the upstream and notes when its handler finished each request,
// by id. A stream's time from there to the client's last byte is what the path
// adds after generation ends, free of the simulator's token-delay timer jitter
// (Go timers wake up to a millisecond late, more or less depending on how busy
// the process is), which swamps the difference of whole stream durations.
type Stamper struct {
	next http.Handler
	mu   sync.Mutex
	ends map[int]time.Time
}

// NewStamper wraps next.
func NewStamper(next http.Handler) *Stamper {
	return &Stamper{next: next, ends: map[int]time.Time{}}
}

// ServeHTTP reads the request's id, serves it, and notes the time.
func (s *Stamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	id, ok := parseID(body)
	s.next.ServeHTTP(w, r)
	if ok {
		now := time.Now()
		s.mu.Lock()
		s.ends[id] = now
		s.mu.Unlock()
	}
}

// End returns when the upstream finished request id.
func (s *Stamper) End(id int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.ends[id]
	return t, ok
}

// Reset forgets every stamp.
func (s *Stamper) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.ends)
}
