package openai

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/chat"
	"spass/shared/response"
)

// respStream is the sink of a streamed /v1/responses request: it writes the
// Responses API's named SSE events. A native backend's events are relayed with
// the gateway's id and model slug; a chat backend's chunks are translated
// (response.created, output items, text and argument deltas). Either way the
// terminal event (response.completed) is held until Finish, which the handler
// calls once the response is stored, so a client that continues at once with
// previous_response_id always finds it.
type respStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	out  *bufio.Writer
	n    *chat.Native
	resp *respObject
	seq  int64

	// The translation's state: output items in order, the open message, the
	// function calls by their chunk index.
	items  []*streamItem
	msg    *streamItem
	calls  map[int64]*streamItem
	reason string
	usage  chat.Usage
	done   bool // the stream ended with its answer ([DONE] or a terminal event)
	failed bool

	final []byte // the finished response object (native: the backend's, adopted)
	held  []byte // a native stream's terminal event, sent by Finish
	err   error  // the first failed write: the client left
}

// streamItem is one output item being streamed.
type streamItem struct {
	index int
	id    string
	text  strings.Builder
	call  *chat.ToolCall
}

func newRespStream(w http.ResponseWriter, n *chat.Native, o *respObject) *respStream {
	return &respStream{w: w, n: n, resp: o, calls: map[int64]*streamItem{}}
}

func (s *respStream) Header() http.Header { return s.w.Header() }

// Answer is reached only by a cached answer, which is never a stream's; it is
// delivered as a whole response all the same.
func (s *respStream) Answer(body []byte) {
	s.Events()
	if s.n.Served {
		s.final = nativeAnswer(body, s.resp)
	} else {
		r := chatReplyOf(body)
		s.resp.fromReply(r)
		s.reason, s.done = r.FinishReason, true
	}
}

// Events commits the stream: the headers, and for a translated answer its
// opening events.
func (s *respStream) Events() chat.EventWriter {
	h := s.w.Header()
	if m := h[chat.HeaderModel]; len(m) == 1 { // the overflow guard chose another model (set as written, not canonical)
		s.resp.Model = m[0]
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.rc = http.NewResponseController(s.w)
	s.rc.EnableFullDuplex()
	s.w.WriteHeader(http.StatusOK)
	s.out = bufio.NewWriterSize(s.w, 4096)
	if !s.n.Served {
		s.emit("response.created", map[string]any{"response": s.resp})
		s.emit("response.in_progress", map[string]any{"response": s.resp})
	}
	return s
}

// emit writes one translated event with its type and sequence number.
func (s *respStream) emit(typ string, fields map[string]any) error {
	fields["type"] = typ
	fields["sequence_number"] = s.seq
	s.seq++
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return s.event(typ, b)
}

// event writes one SSE event.
func (s *respStream) event(typ string, data []byte) error {
	s.out.WriteString("event: ")
	s.out.WriteString(typ)
	s.out.WriteString("\ndata: ")
	s.out.Write(data)
	if _, err := s.out.WriteString("\n\n"); err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}

// Write takes one event of the core: a native event or a chat chunk.
func (s *respStream) Write(data []byte) error {
	if s.n.Served {
		return s.native(data)
	}
	if string(data) == "[DONE]" {
		s.closeItems()
		s.done = true
		return nil
	}
	if gjson.GetBytes(data, "error").IsObject() {
		return s.fail(data)
	}
	ch := gjson.GetBytes(data, "choices.0")
	if u := gjson.GetBytes(data, "usage"); u.IsObject() {
		s.usage = chat.Usage{Prompt: u.Get("prompt_tokens").Int(), Completion: u.Get("completion_tokens").Int(),
			Cached: u.Get("prompt_tokens_details.cached_tokens").Int()}
	}
	if text := ch.Get("delta.content").Str; text != "" {
		if s.msg == nil {
			s.openMessage()
		}
		s.msg.text.WriteString(text)
		s.emit("response.output_text.delta", map[string]any{"item_id": s.msg.id, "output_index": s.msg.index,
			"content_index": 0, "delta": text, "logprobs": []any{}})
	}
	ch.Get("delta.tool_calls").ForEach(func(_, d gjson.Result) bool {
		s.callDelta(d)
		return true
	})
	if f := ch.Get("finish_reason"); f.Type == gjson.String {
		s.reason = f.Str
	}
	return s.err
}

// openMessage starts an assistant message item and its text part.
func (s *respStream) openMessage() {
	s.msg = &streamItem{index: len(s.items), id: response.NewID("msg_")}
	s.items = append(s.items, s.msg)
	s.emit("response.output_item.added", map[string]any{"output_index": s.msg.index,
		"item": json.RawMessage(`{"id":"` + s.msg.id + `","type":"message","status":"in_progress","role":"assistant","content":[]}`)})
	s.emit("response.content_part.added", map[string]any{"item_id": s.msg.id, "output_index": s.msg.index,
		"content_index": 0, "part": textPart("")})
}

// closeMessage ends the open message item.
func (s *respStream) closeMessage() {
	m := s.msg
	if m == nil {
		return
	}
	s.msg = nil
	text := m.text.String()
	s.emit("response.output_text.done", map[string]any{"item_id": m.id, "output_index": m.index, "content_index": 0,
		"text": text, "logprobs": []any{}})
	s.emit("response.content_part.done", map[string]any{"item_id": m.id, "output_index": m.index, "content_index": 0,
		"part": textPart(text)})
	item := textItem(m.id, text, "completed")
	s.resp.Output = append(s.resp.Output, item)
	s.emit("response.output_item.done", map[string]any{"output_index": m.index, "item": item})
}

// callDelta handles one tool-call fragment: a new index opens a function_call
// item (after the text before it), arguments stream as deltas.
func (s *respStream) callDelta(d gjson.Result) {
	i := d.Get("index").Int()
	it := s.calls[i]
	if it == nil {
		s.closeMessage()
		it = &streamItem{index: len(s.items), id: response.NewID("fc_"), call: &chat.ToolCall{Type: "function"}}
		it.call.ID, it.call.Function.Name = d.Get("id").Str, d.Get("function.name").Str
		s.items = append(s.items, it)
		s.calls[i] = it
		s.emit("response.output_item.added", map[string]any{"output_index": it.index, "item": callItem(it.id, *it.call, "in_progress")})
	} else {
		if id := d.Get("id").Str; id != "" && it.call.ID == "" {
			it.call.ID = id
		}
		if name := d.Get("function.name").Str; name != "" && it.call.Function.Name == "" {
			it.call.Function.Name = name
		}
	}
	a := d.Get("function.arguments")
	delta := a.Str
	if a.Exists() && a.Type != gjson.String && a.Type != gjson.Null {
		delta = a.Raw
	}
	if delta != "" {
		it.text.WriteString(delta)
		s.emit("response.function_call_arguments.delta", map[string]any{"item_id": it.id, "output_index": it.index, "delta": delta})
	}
}

// closeItems ends every open item, in output order.
func (s *respStream) closeItems() {
	s.closeMessage()
	for _, it := range s.items {
		if it.call == nil {
			continue
		}
		it.call.Function.Arguments = it.text.String()
		s.emit("response.function_call_arguments.done", map[string]any{"item_id": it.id, "output_index": it.index,
			"name": it.call.Function.Name, "arguments": it.call.Function.Arguments})
		item := callItem(it.id, *it.call, "completed")
		s.resp.Output = append(s.resp.Output, item)
		s.emit("response.output_item.done", map[string]any{"output_index": it.index, "item": item})
	}
}

// fail reports a mid-stream error (a chat error event): an error event, then
// response.failed.
func (s *respStream) fail(data []byte) error {
	s.failed = true
	e := gjson.GetBytes(data, "error")
	s.emit("error", map[string]any{"code": e.Get("code").Str, "message": e.Get("message").Str, "param": nil})
	s.resp.Status = "failed"
	s.resp.Error = &respError{Code: "server_error", Message: e.Get("message").Str}
	return s.emit("response.failed", map[string]any{"response": s.resp})
}

// native relays a native event, named by the gateway's id and slug; the
// terminal event is kept for Finish.
func (s *respStream) native(data []byte) error {
	if gjson.GetBytes(data, "error").IsObject() { // the core's own error event
		return s.fail(data)
	}
	typ := gjson.GetBytes(data, "type").Str
	if n := gjson.GetBytes(data, "sequence_number"); n.Exists() {
		s.seq = n.Int() + 1 // the gateway's own events go on from the backend's numbers
	}
	if r := gjson.GetBytes(data, "response"); r.IsObject() {
		adopted := nativeAnswer([]byte(r.Raw), s.resp)
		if b, err := sjson.SetRawBytes(data, "response", adopted); err == nil {
			data = b
		}
		switch typ {
		case "response.completed", "response.incomplete":
			s.final, s.done = adopted, true
			s.held = append(s.held[:0], data...)
			return nil
		case "response.failed":
			s.failed = true
		}
	}
	return s.event(typ, data)
}

// Flush sends what is buffered.
func (s *respStream) Flush() error {
	if err := s.out.Flush(); err != nil {
		if s.err == nil {
			s.err = err
		}
		return err
	}
	s.rc.Flush() // a writer that cannot flush (Lambda's buffered adapter) delivers at the end
	return nil
}

// Close is the core's end of the stream; the terminal event waits for Finish.
func (s *respStream) Close() {}

// result is the finished response object, or nil when the stream failed or was cut.
func (s *respStream) result(res chat.Result) []byte {
	if s.failed || !s.done {
		return nil
	}
	if s.final != nil {
		return s.final
	}
	u := s.usage
	if res.Usage != (chat.Usage{}) {
		u = res.Usage
	}
	s.resp.finish(s.reason, u)
	s.final, _ = json.Marshal(s.resp)
	return s.final
}

// Finish sends the held terminal event once the response is stored.
func (s *respStream) Finish() {
	if s.out == nil {
		return
	}
	switch {
	case s.held != nil:
		s.event(gjson.GetBytes(s.held, "type").Str, s.held)
	case s.final != nil && !s.n.Served:
		typ := "response.completed"
		if s.resp.Status == "incomplete" {
			typ = "response.incomplete"
		}
		s.emit(typ, map[string]any{"response": json.RawMessage(s.final)})
	}
	s.Flush()
}

// chatReplyOf reads the assistant message of a chat answer.
func chatReplyOf(body []byte) chat.Reply {
	var r chat.Reply
	json.Unmarshal([]byte(gjson.GetBytes(body, "choices.0.message").Raw), &r.Message)
	r.FinishReason = gjson.GetBytes(body, "choices.0.finish_reason").Str
	return r
}
