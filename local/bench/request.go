package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"spass/shared/auth"
)

// NewClient returns the load generator's client: plain HTTP/1.1 keep-alive with
// pools large enough that every request reuses a warm connection, so the numbers
// measure request handling rather than TCP handshakes.
func NewClient() *http.Client {
	t := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// ChatBody returns a chat completion body whose reply is tokens tokens long: the
// simulator echoes the prompt after "Hello! You said:", and max_tokens cuts it.
// Its system message holds a request id placeholder (see withID).
func ChatBody(tokens int, stream bool) []byte {
	words := make([]string, max(tokens, 1))
	for i := range words {
		words[i] = fmt.Sprintf("word%d", i)
	}
	return fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"system","content":"You are a benchmark. %s%0*d."},{"role":"user","content":%q}],"max_tokens":%d,"stream":%t}`,
		Model, idMarker, idDigits, 0, strings.Join(words, " "), max(tokens, 1), stream)
}

// Request is one request kind, sent the same way to either target.
type Request struct {
	Body   []byte // from ChatBody
	Stream bool
	// Header is added to every request, e.g. SPASS-Tools: none.
	Header http.Header
}

// Timing is what one request measured, from a start time the caller chose (the
// scheduled send time under the load generator).
type Timing struct {
	Total time.Duration // until the response was read completely
	TTFB  time.Duration // until the first "data:" event; streams only
}

// Do sends r, with request id id, to baseURL's /v1/chat/completions and reads the
// whole answer, checking that it is a complete success: status 200 and, for
// streams, a final "data: [DONE]".
func (r Request) Do(ctx context.Context, c *http.Client, baseURL string, id int, start time.Time) (Timing, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/chat/completions", bytes.NewReader(withID(r.Body, id)))
	if err != nil {
		return Timing{}, err
	}
	// Both targets get the same headers; the simulator ignores the gateway's.
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["Authorization"] = []string{"Bearer " + Token}
	req.Header[auth.UserHeader] = []string{User}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return Timing{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return Timing{}, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	if r.Stream {
		return readStream(resp.Body, start)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return Timing{}, err
	}
	if n == 0 {
		return Timing{}, errors.New("empty body")
	}
	return Timing{Total: time.Since(start)}, nil
}

var (
	dataPrefix = []byte("data:")
	doneEvent  = []byte("data: [DONE]")
)

// readStream reads an SSE body to its end, timing the first data event.
func readStream(body io.Reader, start time.Time) (Timing, error) {
	var t Timing
	rd := bufio.NewReaderSize(body, 4096)
	done := false
	for {
		line, err := rd.ReadSlice('\n')
		if bytes.HasPrefix(line, dataPrefix) {
			if t.TTFB == 0 {
				t.TTFB = time.Since(start)
			}
			done = bytes.Equal(bytes.TrimRight(line, "\r\n"), doneEvent)
		}
		switch {
		case err == io.EOF:
			if !done {
				return t, errors.New("stream ended without [DONE]")
			}
			t.Total = time.Since(start)
			return t, nil
		case err != nil && err != bufio.ErrBufferFull:
			return t, err
		}
	}
}
