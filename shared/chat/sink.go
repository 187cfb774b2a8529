package chat

import (
	"bufio"
	"bytes"
	"net/http"
	"sync"
)

// Sink is where the core delivers an answer: an HTTP client (JSON or SSE, the /v1
// bytes), or memory (a conversation turn, an agent turn, a batch line). The core
// sets the answer's metadata in Header (served-by, rate limits, cache) before it
// calls Answer or Events, exactly once.
type Sink interface {
	// Header is the answer's metadata: response headers for an HTTP client.
	Header() http.Header
	// Answer delivers a complete JSON answer. A failed delivery means the receiver
	// left; the answer was served all the same.
	Answer(body []byte)
	// Events commits a stream; from here on the receiver has the answer's first
	// byte, so errors are reported in-band.
	Events() EventWriter
}

// EventWriter receives a committed stream's events: the data of each SSE event.
type EventWriter interface {
	// Write buffers one event; an error means the receiver left.
	Write(data []byte) error
	// Flush delivers what is buffered; the core calls it before anything that may
	// wait (a read from the backend, billing, tools), so no event is held back.
	Flush() error
	// Close releases the writer once the stream is over.
	Close()
}

// HTTP returns the sink of an HTTP client: JSON answers, SSE streams.
func HTTP(w http.ResponseWriter) Sink { return httpSink{w} }

type httpSink struct{ w http.ResponseWriter }

func (s httpSink) Header() http.Header { return s.w.Header() }

func (s httpSink) Answer(body []byte) {
	s.w.Header()["Content-Type"] = jsonContentType
	s.w.WriteHeader(http.StatusOK)
	s.w.Write(body) // a failed write means the client left; the answer was served
}

// Events sends the stream's headers and returns the writer of its events.
func (s httpSink) Events() EventWriter {
	h := s.w.Header()
	h["Content-Type"] = sseHeaders[0]
	h["Cache-Control"] = sseHeaders[1]
	h["X-Accel-Buffering"] = sseHeaders[2]
	rc := http.NewResponseController(s.w)
	rc.EnableFullDuplex() // keep the request body readable while we write (golang/go#40747)
	s.w.WriteHeader(http.StatusOK)
	out := sseWriters.Get().(*bufio.Writer)
	out.Reset(s.w)
	return &sseOut{w: out, rc: rc}
}

// sseWriters recycles the 4 KB event buffers: a stream holds one for its life.
var sseWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

// sseOut writes a committed event stream. Write only buffers: a relay that flushed
// every event paid one syscall per token, twice what a byte-copying proxy pays when
// the backend's events arrive together.
type sseOut struct {
	w   *bufio.Writer
	rc  *http.ResponseController
	err error // the first failed write or flush: the client left
}

func (o *sseOut) Write(data []byte) error {
	if o.err != nil {
		return o.err
	}
	o.w.Write(dataPrefix)
	o.w.WriteByte(' ')
	o.w.Write(data)
	_, o.err = o.w.Write(eventEnd)
	return o.err
}

func (o *sseOut) Flush() error {
	if o.err == nil && o.w.Buffered() > 0 {
		if o.err = o.w.Flush(); o.err == nil {
			o.err = o.rc.Flush()
		}
	}
	return o.err
}

func (o *sseOut) Close() {
	if o.w != nil {
		o.w.Reset(nil)
		sseWriters.Put(o.w)
		o.w = nil
	}
}

// Memory is a sink that keeps the answer: the JSON body, or the stream's events.
// In-process callers (batch lines, agent turns, tests) read it after the call;
// most only need Result.Reply.
type Memory struct {
	header http.Header
	// Body is a JSON answer; Chunks a stream's events in order.
	Body   []byte
	Chunks [][]byte
}

// Header returns the answer's metadata.
func (m *Memory) Header() http.Header {
	if m.header == nil {
		m.header = http.Header{}
	}
	return m.header
}

// Answer keeps the body.
func (m *Memory) Answer(body []byte) { m.Body = body }

// Events keeps the stream's events.
func (m *Memory) Events() EventWriter { return memEvents{m} }

type memEvents struct{ m *Memory }

func (e memEvents) Write(data []byte) error {
	e.m.Chunks = append(e.m.Chunks, append([]byte(nil), data...))
	return nil
}
func (memEvents) Flush() error { return nil }
func (memEvents) Close()       {}

// Held wraps the sink of a surface that keeps each turn before the client may
// send the next (/c1, /a1): the stream opens with First, an event of the
// surface's own (the conversation or session id); Emit adds the surface's events
// in between (an agent's steps); and [DONE] is held back until Close, which the
// surface calls once the turn is stored, so a client that starts the next turn at
// [DONE] never finds this one still running.
type Held struct {
	Sink
	First []byte
	ew    EventWriter
	done  bool
}

// Events commits the stream and sends First.
func (h *Held) Events() EventWriter {
	h.ew = h.Sink.Events()
	if h.First != nil {
		h.ew.Write(h.First)
	}
	return (*heldWriter)(h)
}

// Emit writes one event of the surface's own, if the stream is committed.
func (h *Held) Emit(data []byte) error {
	if h.ew == nil {
		return nil
	}
	return h.ew.Write(data)
}

// Close sends the held [DONE], if the stream ended with one, and releases it.
func (h *Held) Close() {
	if h.ew == nil {
		return
	}
	if h.done {
		h.ew.Write(doneMarker)
		h.ew.Flush()
	}
	h.ew.Close()
	h.ew = nil
}

// heldWriter is the writer the core sees: [DONE] is kept for Close.
type heldWriter Held

func (h *heldWriter) Write(data []byte) error {
	if bytes.Equal(data, doneMarker) {
		h.done = true
		return nil
	}
	return h.ew.Write(data)
}

func (h *heldWriter) Flush() error { return h.ew.Flush() }
func (h *heldWriter) Close()       {}
