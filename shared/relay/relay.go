// Package relay copies an upstream HTTP answer to a client as it comes: server-sent
// events one event at a time, anything else read by read, flushing after each, so
// a stream is never held back by the gateway. The audio routes and the /proxy
// passthrough share it.
package relay

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Stream copies an upstream answer to w as it comes: server-sent events one
// event at a time, anything else (audio) read by read, flushing after each, so
// the client hears the first bytes while the backend still makes the rest. see
// sees each SSE event's data. It returns the bytes relayed and whether the
// upstream ended cleanly.
func Stream(w http.ResponseWriter, resp *http.Response, see func(data []byte)) (int64, bool) {
	rc := http.NewResponseController(w)
	if IsSSE(resp.Header) {
		return Events(w, rc, resp.Body, see)
	}
	return Bytes(w, rc, resp.Body, nil)
}

// IsSSE reports whether h describes a server-sent event stream.
func IsSSE(h http.Header) bool {
	return strings.HasPrefix(strings.TrimSpace(h.Get("Content-Type")), "text/event-stream")
}

// Bytes copies body to w read by read, flushing after each; tee, when set, gets
// a copy of every byte relayed.
func Bytes(w io.Writer, rc *http.ResponseController, body io.Reader, tee io.Writer) (int64, bool) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := body.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, false
			}
			if tee != nil {
				tee.Write(buf[:k])
			}
			n += int64(k)
			rc.Flush()
		}
		if err == io.EOF {
			return n, true
		}
		if err != nil {
			return n, false
		}
	}
}

// Events relays server-sent events event by event: every line of an event
// is written, the blank line that ends it flushes it.
func Events(w io.Writer, rc *http.ResponseController, body io.Reader, see func(data []byte)) (int64, bool) {
	br := bufio.NewReaderSize(body, 64<<10)
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: relay it in pieces, unseen.
			for errors.Is(err, bufio.ErrBufferFull) {
				if _, werr := w.Write(line); werr != nil {
					return n, false
				}
				n += int64(len(line))
				line, err = br.ReadSlice('\n')
			}
		} else if see != nil {
			if data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data:")); ok {
				see(bytes.TrimSpace(data))
			}
		}
		if len(line) > 0 {
			if _, werr := w.Write(line); werr != nil {
				return n, false
			}
			n += int64(len(line))
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				rc.Flush()
			}
		}
		if err == io.EOF {
			rc.Flush()
			return n, true
		}
		if err != nil {
			return n, false
		}
	}
}
