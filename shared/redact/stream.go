package redact

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Stream restores the placeholders of a streamed chat answer (or Responses API
// event stream), event by event. A
// model writes a placeholder in pieces ("[EMA", "IL_1]"), so the end of a text
// or tool-arguments delta that may begin one is held back and sent with the
// next delta of the same field; what is still held when a choice finishes, the
// stream ends ([DONE]) or an error event arrives is sent first, in an event of
// its own.
type Stream struct {
	r *Redactor
	// held is the text kept back per field, keyed by "choice/field" or
	// "choice/tool/index"; order keeps the keys in arrival order.
	held  map[string]heldText
	order []string
	// envelope is the last chunk's id, created and model, for the events that
	// send held text.
	id, model string
	created   int64
	// delta is a Responses API delta event held back (see responsesEvent).
	delta *heldDelta
}

// heldText is text kept back and where it belongs.
type heldText struct {
	choice int64
	tool   int64 // -1 for a text field
	field  string
	text   string
}

// NewStream returns a restorer for one stream of r's request.
func NewStream(r *Redactor) *Stream { return &Stream{r: r, held: map[string]heldText{}} }

var (
	doneMarker = []byte("[DONE]")
	errorKey   = []byte(`"error"`)
	textFields = [...]string{"content", "reasoning_content", "reasoning"}
)

// Event returns the events to send for one event of the backend's stream: the
// event restored, preceded by any held text it releases. With nothing redacted
// it returns data itself. Events typed "response.*" or "error" are the
// Responses API's (see responsesEvent); the others are chat chunks.
func (s *Stream) Event(data []byte) [][]byte {
	if s.r.Empty() && len(s.order) == 0 && s.delta == nil {
		return [][]byte{data}
	}
	if bytes.Equal(data, doneMarker) || bytes.Contains(data, errorKey) && gjson.GetBytes(data, "error").Exists() {
		return append(append(s.releaseDelta(), s.release(-1)...), data)
	}
	if typ := gjson.GetBytes(data, "type").Str; strings.HasPrefix(typ, "response.") || typ == "error" {
		return s.responsesEvent(data, typ)
	}
	if v := gjson.GetBytes(data, "id"); v.Type == gjson.String {
		s.id = v.Str
	}
	if v := gjson.GetBytes(data, "model"); v.Type == gjson.String {
		s.model = v.Str
	}
	if v := gjson.GetBytes(data, "created"); v.Exists() {
		s.created = v.Int()
	}
	out := data
	var before [][]byte
	gjson.GetBytes(data, "choices").ForEach(func(k, ch gjson.Result) bool {
		path := "choices." + k.String()
		choice := ch.Get("index").Int()
		delta := ch.Get("delta")
		for _, f := range textFields {
			out = s.field(out, path+".delta."+f, delta.Get(f), choice, -1, f)
		}
		delta.Get("tool_calls").ForEach(func(j, tc gjson.Result) bool {
			out = s.field(out, path+".delta.tool_calls."+j.String()+".function.arguments",
				tc.Get("function.arguments"), choice, tc.Get("index").Int(), "arguments")
			return true
		})
		if f := ch.Get("finish_reason"); f.Exists() && f.Type != gjson.Null {
			before = append(before, s.release(choice)...)
		}
		return true
	})
	return append(before, out)
}

// field restores one string of an event at path, holding back a partial
// placeholder at its end and prefixing what was held before.
func (s *Stream) field(event []byte, path string, v gjson.Result, choice, tool int64, name string) []byte {
	if v.Type != gjson.String {
		return event
	}
	key := strconv.FormatInt(choice, 10) + "/" + strconv.FormatInt(tool, 10) + "/" + name
	text := v.Str
	if h, ok := s.held[key]; ok {
		text = h.text + text
		delete(s.held, key)
		s.forget(key)
	}
	if n := s.r.pending(text); n > 0 {
		s.held[key] = heldText{choice: choice, tool: tool, field: name, text: text[len(text)-n:]}
		s.order = append(s.order, key)
		text = text[:len(text)-n]
	}
	text = s.r.RestoreText(text)
	if text == v.Str {
		return event
	}
	if out, err := sjson.SetBytes(event, path, text); err == nil {
		return out
	}
	return event
}

func (s *Stream) forget(key string) {
	for i, k := range s.order {
		if k == key {
			s.order = append(s.order[:i], s.order[i+1:]...)
			return
		}
	}
}

// release returns one event per held text of choice (every choice for -1), in
// the order it was held, restored, and forgets it.
func (s *Stream) release(choice int64) [][]byte {
	var out [][]byte
	keep := s.order[:0]
	for _, key := range s.order {
		h := s.held[key]
		if choice >= 0 && h.choice != choice {
			keep = append(keep, key)
			continue
		}
		delete(s.held, key)
		out = append(out, s.chunk(h))
	}
	s.order = keep
	return out
}

// chunk is a chat.completion.chunk that carries held text.
func (s *Stream) chunk(h heldText) []byte {
	text := s.r.RestoreText(h.text)
	delta := map[string]any{h.field: text}
	if h.tool >= 0 {
		delta = map[string]any{"tool_calls": []any{map[string]any{"index": h.tool, "function": map[string]any{"arguments": text}}}}
	}
	b, _ := json.Marshal(map[string]any{
		"id": s.id, "object": "chat.completion.chunk", "created": s.created, "model": s.model,
		"choices": []any{map[string]any{"index": h.choice, "delta": delta, "finish_reason": nil}},
	})
	return b
}
