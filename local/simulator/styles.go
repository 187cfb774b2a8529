package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ToolStyle is how the simulator writes tool calls: in OpenAI's shape (the
// default), or in one of the shapes local inference servers are known to send,
// so that a client of the simulator — the gateway — can be tested against each.
type ToolStyle string

const (
	// StyleOpenAI streams each call as OpenAI does: an opening delta with index,
	// id, type and name, then argument fragments with the index.
	StyleOpenAI ToolStyle = ""
	// StyleNoIndex is Ollama's: each call whole in one delta without "index",
	// and finish_reason "stop" (as older Ollama), streamed or not.
	StyleNoIndex ToolStyle = "no-index"
	// StyleNullIndex streams OpenAI's fragments with "index": null.
	StyleNullIndex ToolStyle = "null-index"
	// StyleParallelNoIndex streams every call of the turn in one delta, whole
	// and without "index".
	StyleParallelNoIndex ToolStyle = "parallel-no-index"
	// StyleObjectArgs sends arguments as a JSON object rather than a string
	// (TGI), streamed (whole, in the opening delta) or not.
	StyleObjectArgs ToolStyle = "object-args"
	// StyleMissingID leaves out the calls' "id" and "type".
	StyleMissingID ToolStyle = "missing-id"
	// StyleHermes writes the calls as Hermes/Qwen text in the content, the way a
	// server without a tool parser passes them on:
	// <tool_call>{"name":…,"arguments":{…}}</tool_call>, finish_reason "stop".
	StyleHermes ToolStyle = "hermes"
	// StyleMistral writes [TOOL_CALLS][{"name":…,"arguments":{…}}] as content.
	StyleMistral ToolStyle = "mistral"
	// StyleLlamaJSON writes Llama's JSON as content: {"name":…,"parameters":{…}},
	// calls separated by "; ".
	StyleLlamaJSON ToolStyle = "llama-json"
)

// ToolStyles lists every style.
func ToolStyles() []ToolStyle {
	return []ToolStyle{StyleOpenAI, StyleNoIndex, StyleNullIndex, StyleParallelNoIndex, StyleObjectArgs,
		StyleMissingID, StyleHermes, StyleMistral, StyleLlamaJSON}
}

// ParseToolStyle converts a style's name ("" or "openai" for OpenAI's) into a
// ToolStyle, rejecting unknown names.
func ParseToolStyle(s string) (ToolStyle, error) {
	if s == "openai" {
		return StyleOpenAI, nil
	}
	for _, st := range ToolStyles() {
		if ToolStyle(s) == st {
			return st, nil
		}
	}
	return StyleOpenAI, fmt.Errorf("simulator: unknown tool style %q", s)
}

// SetToolStyle switches how subsequent answers write tool calls.
func (s *Server) SetToolStyle(st ToolStyle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.style = st
}

// ToolStyle reports how answers write tool calls.
func (s *Server) ToolStyle() ToolStyle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.style
}

// textual reports whether the style writes calls as content.
func (st ToolStyle) textual() bool {
	return st == StyleHermes || st == StyleMistral || st == StyleLlamaJSON
}

// styled applies st to a decided completion: text styles turn the calls into
// content, and styles of servers that do not say so end with "stop".
func styled(c completion, st ToolStyle) completion {
	if len(c.toolCalls) == 0 {
		return c
	}
	switch {
	case st.textual():
		c.tokens = callTokens(c.toolCalls, st)
		c.toolCalls, c.finishReason = nil, "stop"
	case st == StyleNoIndex:
		c.finishReason = "stop"
	}
	return c
}

// callTokens writes calls as the tokens of a text style.
func callTokens(calls []toolCall, st ToolStyle) []string {
	var toks []string
	pieces := func(s string) { toks = append(toks, splitFragments(s, maxArgumentFragments)...) }
	switch st {
	case StyleHermes:
		for i, c := range calls {
			if i > 0 {
				toks = append(toks, "\n")
			}
			toks = append(toks, "<tool_call>", "\n")
			pieces(fmt.Sprintf(`{"name": %q, "arguments": %s}`, c.Function.Name, c.Function.Arguments))
			toks = append(toks, "\n", "</tool_call>")
		}
	case StyleMistral:
		var objs []string
		for _, c := range calls {
			objs = append(objs, fmt.Sprintf(`{"name": %q, "arguments": %s}`, c.Function.Name, c.Function.Arguments))
		}
		toks = append(toks, "[TOOL_CALLS]")
		pieces("[" + strings.Join(objs, ", ") + "]")
	case StyleLlamaJSON:
		for i, c := range calls {
			if i > 0 {
				toks = append(toks, "; ")
			}
			pieces(fmt.Sprintf(`{"name": %q, "parameters": %s}`, c.Function.Name, c.Function.Arguments))
		}
	}
	return toks
}

// restyled is a non-streamed answer with its tool calls in style st: arguments
// as objects, or calls without id and type.
func restyled(c chatCompletion, st ToolStyle) any {
	if st != StyleObjectArgs && st != StyleMissingID || len(c.Choices[0].Message.ToolCalls) == 0 {
		return c
	}
	b, _ := json.Marshal(c)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return c
	}
	msg := m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	for _, tc := range msg["tool_calls"].([]any) {
		call := tc.(map[string]any)
		if st == StyleMissingID {
			delete(call, "id")
			delete(call, "type")
			continue
		}
		fn := call["function"].(map[string]any)
		fn["arguments"] = json.RawMessage(fn["arguments"].(string))
	}
	return m
}

// streamCalls sends the calls of a streamed answer in style st.
func (sw *sseWriter) streamCalls(calls []toolCall, st ToolStyle) bool {
	whole := func(i int, c toolCall) toolCallChunk {
		return toolCallChunk{Index: i, ID: c.ID, Type: c.Type, style: st,
			Function: functionCallChunk{Name: c.Function.Name, Arguments: c.Function.Arguments}}
	}
	switch st {
	case StyleNoIndex, StyleObjectArgs:
		for i, c := range calls {
			if !sw.token(chunkDelta{ToolCalls: []toolCallChunk{whole(i, c)}}) {
				return false
			}
		}
		return true
	case StyleParallelNoIndex:
		all := make([]toolCallChunk, len(calls))
		for i, c := range calls {
			all[i] = whole(i, c)
		}
		return sw.token(chunkDelta{ToolCalls: all})
	}
	for i, c := range calls { // OpenAI's fragments, perhaps without index or id
		opening := toolCallChunk{Index: i, ID: c.ID, Type: c.Type, style: st, Function: functionCallChunk{Name: c.Function.Name}}
		if st == StyleMissingID {
			opening.ID, opening.Type = "", ""
		}
		if !sw.token(chunkDelta{ToolCalls: []toolCallChunk{opening}}) {
			return false
		}
		for _, frag := range splitFragments(c.Function.Arguments, maxArgumentFragments) {
			more := toolCallChunk{Index: i, style: st, Function: functionCallChunk{Arguments: frag}}
			if !sw.token(chunkDelta{ToolCalls: []toolCallChunk{more}}) {
				return false
			}
		}
	}
	return true
}

// MarshalJSON writes the delta in its style: without index (no-index,
// parallel-no-index), with a null one (null-index), or with the arguments as
// an object (object-args).
func (t toolCallChunk) MarshalJSON() ([]byte, error) {
	type function struct {
		Name      string          `json:"name,omitempty"`
		Arguments json.RawMessage `json:"arguments"`
	}
	w := struct {
		Index    json.RawMessage `json:"index,omitempty"`
		ID       string          `json:"id,omitempty"`
		Type     string          `json:"type,omitempty"`
		Function function        `json:"function"`
	}{Index: json.RawMessage(strconv.Itoa(t.Index)), ID: t.ID, Type: t.Type, Function: function{Name: t.Function.Name}}
	w.Function.Arguments, _ = json.Marshal(t.Function.Arguments)
	switch t.style {
	case StyleNoIndex, StyleParallelNoIndex:
		w.Index = nil
	case StyleNullIndex:
		w.Index = json.RawMessage("null")
	case StyleObjectArgs:
		if json.Valid([]byte(t.Function.Arguments)) {
			w.Function.Arguments = json.RawMessage(t.Function.Arguments)
		}
	}
	return json.Marshal(w)
}
