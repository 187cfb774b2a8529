package chat

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/router"
)

var (
	dataPrefix = []byte("data:")
	doneMarker = []byte("[DONE]")
	usageKey   = []byte(`"usage"`)
	errorKey   = []byte(`"error"`)
	eventEnd   = []byte("\n\n")
)

// stream relays an SSE answer event by event. Until the first event arrives any
// failure falls back to the next tier; after it, failures end the stream with an
// OpenAI-shaped error event carrying a catalog code.
func (c *call) stream(ctx context.Context, t router.Target, body []byte, wantUsage bool) error {
	rd, tm, done, err := c.openStream(ctx, t, body)
	if err != nil {
		return err
	}
	defer done()
	first, err := rd.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("stream closed before the first event")
		}
		return streamFailure(ctx, tm, err)
	}
	v := c.newVet(t, c.offered())
	var in eventInfo
	if !bytes.Equal(first, doneMarker) {
		if in = v.check(first); in.invalid {
			return &router.Failure{Status: http.StatusBadGateway, Cause: errors.New("the stream's first event is not valid JSON")}
		}
	}
	if in.err && gjson.GetBytes(first, "error").Exists() {
		return &router.Failure{Status: http.StatusBadGateway, Cause: errors.New("stream began with an error: " + errorText(first))}
	}
	tm.reset()

	out := c.commit(t, false)
	defer out.close()
	rd.out = out.w // send what is buffered whenever the next read may wait
	var last []byte
	data := first
	for {
		if bytes.Equal(data, doneMarker) {
			if v.fx != nil {
				for _, e := range v.fx.flush() {
					out.write(e)
					c.chunks++
				}
			}
			c.settle(out, http.StatusOK)
			out.relay(data)
			return nil
		}
		if in.invalid {
			return c.endWithError(out, apierr.E(apierr.StreamInvalidEvent, "", nil))
		}
		if in.usage {
			var drop bool
			data, drop = c.usage(data, wantUsage)
			if drop {
				data = nil
			}
		}
		if data != nil {
			if in.err && gjson.GetBytes(data, "error").Exists() {
				return c.endWithError(out, apierr.E(apierr.StreamInterrupted,
					"The backend reported an error mid-stream: "+errorText(data), nil))
			}
			var err error
			switch {
			case v.fx != nil && v.fx.wants(in): // tool calls: normalised, perhaps held
				for _, e := range v.fx.fix(data) {
					if err = out.write(e); err != nil {
						break
					}
					c.chunks++
					last = e
				}
			case in.plain && v.slugged: // a content delta like the template: no check left
				if err = out.put(data); err == nil {
					c.chunks++
					last = data
				}
			default:
				if err = out.write(data); err == nil {
					c.chunks++
					last = data
				}
			}
			if err != nil {
				c.res.Interrupted = true
				c.finish(apierr.Lookup(apierr.ClientClosed).Status)
				return nil // the client left; ctx cancellation stops the backend
			}
		}
		data, err = rd.next()
		if err != nil {
			return c.afterEOF(ctx, tm, err, last, out)
		}
		tm.reset()
		if !bytes.Equal(data, doneMarker) {
			in = v.check(data)
		}
	}
}

// openStream posts a streamed request under the first-byte timer (re-armed by the
// caller on every event) and returns its event reader; done releases it all.
func (c *call) openStream(ctx context.Context, t router.Target, body []byte) (*eventReader, *timer, func(), error) {
	actx, cancel := context.WithCancel(ctx)
	tm := newTimer(c.s.FirstByte, cancel)
	resp, err := t.Backend.Post(actx, "/chat/completions", body, true)
	if err != nil {
		tm.stop()
		cancel()
		return nil, nil, nil, streamFailure(ctx, tm, err)
	}
	if resp.StatusCode != http.StatusOK {
		err := statusFailure(resp)
		resp.Body.Close()
		tm.stop()
		cancel()
		return nil, nil, nil, err
	}
	rd := newEventReader(resp.Body)
	done := func() {
		if rd.ended {
			drain(resp.Body, tm)
		}
		resp.Body.Close()
		tm.stop()
		cancel()
		rd.release()
	}
	return rd, tm, done, nil
}

// drainWait bounds the wait for the end of a backend's body after its [DONE].
const drainWait = 100 * time.Millisecond

// drain reads what follows [DONE] in a backend's body, normally nothing but the
// chunked encoding's last chunk, so that the Transport sees the body's end and
// keeps the connection: a body closed before its end closes the connection, and
// every stream paid for a new one (a dial, two goroutines, their buffers). A
// backend that sends more, or holds the body open, loses its connection as
// before, after at most drainWait (the timer cancels the request).
func drain(body io.Reader, tm *timer) {
	tm.t.Reset(drainWait)
	io.CopyN(io.Discard, body, 4<<10) // io.Discard reads into a pooled buffer
}

// events is the receiver's committed stream as the core writes it: each event is
// named by the gateway's model slug and recorded for Result.Reply. In a tool loop
// every event also keeps the first event's id: later turns come from new upstream
// completions, and SDK accumulators (openai-go) reject an id that changes.
type events struct {
	c      *call
	w      EventWriter
	sameID bool
	id     string
	// idHead is `{"id":` and the first event's id as it came: an event that
	// starts so keeps the id without a parse.
	idHead []byte
}

// commit journals the stream's start, sets the served-by headers and commits the
// sink's stream: from here on the receiver has the answer's first byte.
func (c *call) commit(t router.Target, sameID bool) *events {
	c.begin()
	setServedHeaders(c.sink.Header(), t, c.res.Fallbacks)
	return &events{c: c, w: c.sink.Events(), sameID: sameID}
}

// write buffers one event; see EventWriter for when it is sent.
func (e *events) write(d []byte) error { return e.put(e.c.withSlug(d)) }

// put is write for an event that names the model by its slug already.
func (e *events) put(d []byte) error {
	if e.sameID && !(e.idHead != nil && bytes.HasPrefix(d, e.idHead)) {
		d = e.keepID(d)
	}
	if !e.c.opts.NoReply {
		e.c.res.events.add(d)
	}
	return e.w.Write(d)
}

// keepID returns d with the stream's first id.
func (e *events) keepID(d []byte) []byte {
	id := gjson.GetBytes(d, "id")
	switch {
	case id.Type != gjson.String:
	case e.id == "":
		e.id = id.Str
		e.idHead = append([]byte(`{"id":`), id.Raw...)
	case id.Str != e.id:
		d, _ = sjson.SetBytes(d, "id", e.id)
	}
	return d
}

// relay writes and flushes one event.
func (e *events) relay(d []byte) error {
	e.write(d)
	return e.w.Flush()
}

func (e *events) flush() error { return e.w.Flush() }
func (e *events) close()       { e.w.Close() }

// settle bills the request (see finish) before the stream's last event. Billing is
// one append to the memory-mapped ledger journal (billing.Ledger.Record), so the
// events still buffered wait microseconds and leave with the last event in one
// write; flushing them first cost every stream a write system call more than a
// bare proxy pays.
func (c *call) settle(out *events, status int) {
	c.finish(status)
}

// usage records a chunk's usage and decides whether the client sees it: a usage-only
// chunk (empty choices) is dropped when the client did not ask for usage.
func (c *call) usage(data []byte, want bool) ([]byte, bool) {
	u := gjson.GetBytes(data, "usage")
	if !u.IsObject() {
		return data, false
	}
	c.own = parseUsage(u)
	c.res.Usage = c.own
	if want {
		return data, false
	}
	if ch := gjson.GetBytes(data, "choices"); !ch.IsArray() || len(ch.Array()) == 0 {
		return nil, true
	}
	if stripped, err := sjson.DeleteBytes(data, "usage"); err == nil {
		return stripped, false
	}
	return data, false
}

// afterEOF ends a stream whose upstream closed or failed. A stream that finished its
// answer but omitted [DONE] is completed; anything else is reported as interrupted.
func (c *call) afterEOF(ctx context.Context, tm *timer, err error, last []byte, out *events) error {
	if ctx.Err() != nil { // the client left: bill what was generated
		c.res.Interrupted = true
		c.finish(apierr.Lookup(apierr.ClientClosed).Status)
		return nil
	}
	if errors.Is(err, io.EOF) && finished(last) {
		c.settle(out, http.StatusOK)
		out.relay(doneMarker)
		return nil
	}
	code := apierr.StreamInterrupted
	if tm.expired.Load() {
		code = apierr.UpstreamTimeout
	}
	return c.endWithError(out, apierr.E(code, "", err))
}

// endWithError bills what was generated and ends the stream with an error event.
func (c *call) endWithError(out *events, e *apierr.Error) error {
	c.res.Interrupted = true
	c.settle(out, e.Status())
	out.relay(e.Body())
	return nil
}

// finished reports whether the last chunk closed the answer (a finish_reason, or
// the trailing usage chunk).
func finished(last []byte) bool {
	if last == nil {
		return false
	}
	if gjson.GetBytes(last, "choices.0.finish_reason").Type == gjson.String {
		return true
	}
	ch := gjson.GetBytes(last, "choices")
	return ch.IsArray() && len(ch.Array()) == 0
}

func streamFailure(parent context.Context, tm *timer, err error) error {
	if parent.Err() != nil {
		return parent.Err()
	}
	return &router.Failure{Timeout: tm.expired.Load(), Cause: err}
}

// eventReader reads SSE events and returns each event's data payload. Comments and
// other fields are skipped; multi-line data is joined with "\n" as the spec says.
// Two buffers alternate, so the previous event stays valid for one more call.
type eventReader struct {
	r    *bufio.Reader
	body io.Reader
	bufs [2][]byte
	i    int
	// out, once set, is flushed before every read from the backend, which may wait.
	out EventWriter
	// ended says the last event returned was [DONE]: the backend's answer is
	// complete, and what is left of its body is the end of the chunked encoding.
	ended bool
}

// upstream is the eventReader as its bufio.Reader's source: the backend's body,
// read only when no complete line is buffered, the moment to flush the client.
type upstream eventReader

func (u *upstream) Read(p []byte) (int, error) {
	if u.out != nil {
		u.out.Flush()
	}
	return u.body.Read(p)
}

// eventReaders recycles readers with their 4 KB buffer and event buffers.
var eventReaders = sync.Pool{New: func() any {
	e := &eventReader{}
	e.r = bufio.NewReaderSize((*upstream)(e), 4<<10) // longer lines are joined in readLine
	return e
}}

// newEventReader returns a reader of r's events; release it once no event it
// returned is in use.
func newEventReader(r io.Reader) *eventReader {
	e := eventReaders.Get().(*eventReader)
	e.body = r
	return e
}

// release resets e and returns it to the pool.
func (e *eventReader) release() {
	e.r.Reset((*upstream)(e))
	e.body, e.out, e.ended = nil, nil, false
	for i, b := range e.bufs {
		if cap(b) > 64<<10 {
			e.bufs[i] = nil // do not keep a huge event's buffer for every stream
		}
	}
	eventReaders.Put(e)
}

// next returns the next event's data, valid until the call after next.
func (e *eventReader) next() ([]byte, error) {
	e.i ^= 1
	buf := e.bufs[e.i][:0]
	defer func() { e.bufs[e.i] = buf }()
	have := false
	for {
		line, err := e.readLine()
		if err != nil {
			if err == io.EOF && have {
				e.ended = bytes.Equal(buf, doneMarker)
				return buf, nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if have {
				e.ended = bytes.Equal(buf, doneMarker)
				return buf, nil
			}
			continue
		}
		v, ok := bytes.CutPrefix(line, dataPrefix)
		if !ok {
			continue // comment, event:, id:, retry:
		}
		if len(v) > 0 && v[0] == ' ' {
			v = v[1:]
		}
		if have {
			buf = append(buf, '\n')
		}
		buf = append(buf, v...)
		have = true
	}
}

// readLine returns one line without its terminator, handling lines longer than the
// reader's buffer.
func (e *eventReader) readLine() ([]byte, error) {
	line, err := e.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = e.r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && !(err == io.EOF && len(line) > 0) {
		return nil, err // a last line without "\n" is kept; EOF comes on the next call
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}
