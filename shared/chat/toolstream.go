package chat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/router"
)

// round is what one streamed model turn produced.
type round struct {
	calls      map[int]*toolCall
	order      []int
	held       [][]byte        // events not yet shown: undecided start, tool-call deltas, finish
	content    strings.Builder // the turn's text, for the assistant message of a tool round
	usage      Usage
	usageChunk []byte
	aborted    bool // the stream was ended in-band with an error event
}

// toolStream is the tool loop for a client that asked for a stream: each turn is
// streamed from the backend and the client's stream starts with the first event, so
// time to first byte is that of a plain stream. Text is relayed live; tool-call
// deltas and the finish chunk are held until the turn ends, so stack-tool turns stay
// invisible and the client sees one normal OpenAI stream. A failure after the first
// byte (the round limit included) ends the stream with an error event.
func (c *call) toolStream(ctx context.Context, m *router.Model, l *loop, needs []backend.Capability) error {
	var out *events
	defer func() {
		if out != nil {
			out.close()
		}
	}()
	var served router.Target
	for n := 1; ; n++ {
		var r round
		err := c.routed(ctx, m, needs, func(ctx context.Context, t router.Target) error {
			body, err := l.body(t, true)
			if err != nil {
				return err
			}
			served = t
			return c.streamRound(ctx, t, body, l, &r, &out)
		})
		if err != nil {
			if errors.Is(err, context.Canceled) && out != nil { // the client left mid-answer
				c.res.Interrupted = true
				c.finish(apierr.Lookup(apierr.ClientClosed).Status)
				return nil
			}
			if out != nil {
				return c.endWithError(out, apierr.From(err))
			}
			return err
		}
		if r.aborted {
			return nil
		}
		l.total = l.total.Plus(r.usage)
		c.res.Usage = l.total
		calls := make([]*toolCall, 0, len(r.order))
		for _, i := range r.order {
			calls = append(calls, r.calls[i])
		}
		stackCalls := l.stackCalls(calls)
		if len(stackCalls) == 0 {
			c.own = r.usage
			if out == nil {
				out = c.commit(served, true)
			}
			for _, e := range r.held {
				out.write(e)
			}
			if l.req.IncludeUsage && r.usageChunk != nil {
				out.write(withUsage(r.usageChunk, "usage", l.total))
			}
			c.settle(out, http.StatusOK)
			out.relay(doneMarker)
			return nil
		}
		if out != nil {
			out.flush() // the tools may take a while: send the text shown so far
		}
		if err := c.nextRound(ctx, l, n, r.usage, r.content.String(), stackCalls); err != nil {
			if out != nil {
				return c.endWithError(out, apierr.From(err))
			}
			return err
		}
	}
}

// streamRound reads one streamed turn. Before the client stream is committed any
// failure falls back to the next tier; after it, failures end the stream in-band.
// Each event is vetted and its tool calls normalised (see vet and callFix) before
// the turn reads it.
func (c *call) streamRound(ctx context.Context, t router.Target, body []byte, l *loop, r *round, out **events) error {
	*r = round{calls: map[int]*toolCall{}}
	rd, tm, done, err := c.openStream(ctx, t, body)
	if err != nil {
		return err
	}
	defer done()
	v := c.newVet(t, l.names)
	rs := roundStream{c: c, t: t, r: r, out: out, rd: rd, answering: *out != nil}
	for {
		data, err := rd.next()
		if err != nil {
			if errors.Is(err, io.EOF) && r.finished() {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err() // the client left
			}
			if *out == nil {
				return streamFailure(ctx, tm, errors.Join(err, errors.New("stream ended early")))
			}
			r.aborted = true
			return c.endWithError(*out, apierr.E(apierr.StreamInterrupted, "", err))
		}
		tm.reset()
		if string(data) == "[DONE]" {
			for _, e := range v.fx.flush() {
				if err := rs.event(e); err != nil || r.aborted {
					return err
				}
			}
			return nil
		}
		in := v.check(data)
		if in.invalid {
			if *out == nil {
				return &router.Failure{Status: http.StatusBadGateway, Cause: errors.New("a stream event is not valid JSON")}
			}
			r.aborted = true
			return c.endWithError(*out, apierr.E(apierr.StreamInvalidEvent, "", nil))
		}
		switch {
		case v.fx.wants(in): // tool calls, or text that may open one: normalised first
			for _, e := range v.fx.fix(data) {
				if err := rs.event(e); err != nil || r.aborted {
					return err
				}
			}
		case in.plain && len(in.content) > 2 && len(r.calls) == 0:
			// A text delta like the stream's template, and no call in the turn:
			// relayed as it came, without a parse.
			if err := rs.text(data, in.content, v.slugged); err != nil {
				return err
			}
		default:
			if err := rs.event(data); err != nil || r.aborted {
				return err
			}
		}
	}
}

// text relays a text delta the vet matched to the stream's template: raw is its
// content, a JSON string. The turn is an answer from here on: what was held
// (the role chunk) goes first.
func (s *roundStream) text(data, raw []byte, slugged bool) error {
	c, r, out := s.c, s.r, s.out
	if bytes.IndexByte(raw, '\\') < 0 {
		r.content.Write(raw[1 : len(raw)-1])
	} else {
		r.content.WriteString(unquote(raw))
	}
	if *out == nil {
		*out = c.commit(s.t, true)
	}
	if s.rd.out == nil {
		s.rd.out = (*out).w // flush before waiting on the backend
	}
	if !s.answering {
		for _, e := range r.held {
			(*out).write(e)
		}
		r.held, s.answering = nil, true
	}
	var err error
	if slugged {
		err = (*out).put(data)
	} else {
		err = (*out).write(data)
	}
	if err != nil {
		return context.Canceled // the client left
	}
	c.chunks++
	return nil
}

// roundStream is one streamed turn as streamRound reads it.
type roundStream struct {
	c         *call
	t         router.Target
	r         *round
	out       **events
	rd        *eventReader
	answering bool // the turn is an answer: its text goes to the client live
}

// event reads one (vetted, normalised) event of the turn.
func (s *roundStream) event(data []byte) error {
	c, r, out := s.c, s.r, s.out
	top := gjson.GetManyBytes(data, "choices.0", "usage", "error") // one copy, three lookups
	ch, errField := top[0], top[2]
	delta := ch.Get("delta")
	content, calls, finish := delta.Get("content"), delta.Get("tool_calls"), ch.Get("finish_reason")
	if !errField.Exists() && *out == nil {
		// Commit on the first healthy event, as a plain stream does: tool-call
		// deltas stay held below, so a stack-tool turn remains invisible and the
		// next turn continues this same stream.
		*out = c.commit(s.t, true)
		s.answering = true
	}
	if *out != nil {
		s.rd.out = (*out).w // flush before waiting on the backend
	}
	switch {
	case errField.Exists():
		if *out == nil {
			return &router.Failure{Status: http.StatusBadGateway, Cause: errors.New(errorText(data))}
		}
		r.aborted = true
		return c.endWithError(*out, apierr.E(apierr.StreamInterrupted, "The backend reported an error mid-stream: "+errorText(data), nil))
	case top[1].IsObject() && !ch.Exists(): // the usage chunk: no choice
		r.usage, r.usageChunk = parseUsage(top[1]), append([]byte(nil), data...)
	case calls.IsArray():
		r.addCalls(calls)
		r.held = append(r.held, append([]byte(nil), data...))
	case finish.Type == gjson.String:
		r.held = append(r.held, append([]byte(nil), data...))
	case content.Str != "" && len(r.calls) == 0:
		r.content.WriteString(content.Str)
		if !s.answering { // the turn is an answer: commit and show what was held
			if *out == nil {
				*out = c.commit(s.t, true)
			}
			for _, e := range r.held {
				(*out).write(e)
			}
			r.held, s.answering = nil, true
		}
		if err := (*out).write(data); err != nil {
			return context.Canceled // the client left
		}
		c.chunks++
	default:
		if s.answering {
			(*out).write(data)
		} else {
			r.held = append(r.held, append([]byte(nil), data...))
		}
	}
	return nil
}

// addCalls assembles streamed tool-call fragments by index, tolerating names that
// arrive late, arguments in the first fragment and object-typed arguments.
func (r *round) addCalls(deltas gjson.Result) {
	deltas.ForEach(func(_, d gjson.Result) bool {
		i := int(d.Get("index").Int())
		tc := r.calls[i]
		if tc == nil {
			tc = &toolCall{}
			r.calls[i] = tc
			r.order = append(r.order, i)
		}
		if id := d.Get("id").Str; id != "" {
			tc.ID = id
		}
		if n := d.Get("function.name").Str; n != "" {
			tc.Name = n
		}
		if a := d.Get("function.arguments"); a.Type == gjson.String {
			tc.Args.WriteString(a.Str)
		} else if a.Exists() && a.Type != gjson.Null {
			tc.Args.WriteString(a.Raw)
		}
		return true
	})
}

// finished reports whether the turn ended properly (finish chunk seen).
func (r *round) finished() bool {
	for _, e := range r.held {
		if gjson.GetBytes(e, "choices.0.finish_reason").Type == gjson.String {
			return true
		}
	}
	return r.usageChunk != nil
}
