package redact

import (
	"bytes"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// ResponsesBody redacts an OpenAI Responses API body as Body does a chat body:
// the instructions, "user", and the input, a string or items: the text of
// messages (string content, or input_text, output_text and refusal parts),
// the arguments of function_call items, the output of function_call_output
// items, and the summary and text of reasoning items. Images, files, tools and
// parameters are kept byte for byte.
func (r *Redactor) ResponsesBody(body []byte) ([]byte, error) {
	e := edits{r: r}
	e.add("user", gjson.GetBytes(body, "user"))
	e.add("instructions", gjson.GetBytes(body, "instructions"))
	in := gjson.GetBytes(body, "input")
	e.add("input", in)
	in.ForEach(func(i, it gjson.Result) bool {
		p := "input." + i.String()
		switch it.Get("type").Str {
		case "", "message":
			e.parts(p+".content", it.Get("content"))
		case "function_call":
			e.add(p+".arguments", it.Get("arguments"))
		case "function_call_output":
			e.parts(p+".output", it.Get("output"))
		case "reasoning":
			e.parts(p+".summary", it.Get("summary"))
			e.parts(p+".content", it.Get("content"))
		}
		return true
	})
	return e.apply(body)
}

// parts redacts a Responses content value at path: a string, or the text (and
// refusal) of each part.
func (e *edits) parts(path string, v gjson.Result) {
	if !v.IsArray() {
		e.add(path, v)
		return
	}
	v.ForEach(func(j, part gjson.Result) bool {
		e.add(path+"."+j.String()+".text", part.Get("text"))
		e.add(path+"."+j.String()+".refusal", part.Get("refusal"))
		return true
	})
}

// responsesDeltas are the Responses API stream events whose "delta" carries a
// piece of text, in which a placeholder may arrive split.
var responsesDeltas = map[string]bool{
	"response.output_text.delta":             true,
	"response.function_call_arguments.delta": true,
	"response.reasoning_text.delta":          true,
	"response.reasoning_summary_text.delta":  true,
	"response.refusal.delta":                 true,
}

// heldDelta is a Responses delta event kept back because its text ends with
// what may begin a placeholder.
type heldDelta struct {
	key   string // event type, item and part
	event []byte
	text  string // the delta's text, not yet restored
}

// responsesEvent restores one event of a Responses API stream (typ is its
// "type"). A delta event whose text may end in part of a placeholder is held
// whole and its text sent with the next delta of the same item and part, in
// that event (so sequence numbers stay increasing, if not consecutive). Any
// other event releases what is held first, then goes out restored: the done
// events and the response objects of response.created and response.completed
// hold whole texts, arguments and the instructions.
func (s *Stream) responsesEvent(data []byte, typ string) [][]byte {
	if !responsesDeltas[typ] {
		return append(s.releaseDelta(), s.r.Restore(data))
	}
	ev := gjson.ParseBytes(data)
	key := typ + "/" + ev.Get("item_id").Str + "/" + ev.Get("output_index").Raw + "/" + ev.Get("content_index").Raw + "/" + ev.Get("summary_index").Raw
	text := ev.Get("delta").Str
	var out [][]byte
	if h := s.delta; h != nil && h.key == key {
		text, s.delta = h.text+text, nil
	} else {
		out = s.releaseDelta()
	}
	if s.r.pending(text) > 0 {
		s.delta = &heldDelta{key: key, event: bytes.Clone(data), text: text}
		return out
	}
	return append(out, withDelta(data, ev.Get("delta").Str, s.r.RestoreText(text)))
}

// releaseDelta returns the held delta event, restored, and forgets it.
func (s *Stream) releaseDelta() [][]byte {
	h := s.delta
	if h == nil {
		return nil
	}
	s.delta = nil
	return [][]byte{withDelta(h.event, "", s.r.RestoreText(h.text))}
}

// withDelta returns event with its delta set to text, unless that is what it
// holds (was).
func withDelta(event []byte, was, text string) []byte {
	if text == was {
		return event
	}
	if out, err := sjson.SetBytes(event, "delta", text); err == nil {
		return out
	}
	return event
}
