package chat

import (
	"bytes"
	"cmp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/backend"
)

// fixAnswer normalises the tool calls of a complete (non-streamed) chat answer as
// callFix does a stream's: every call has an id, type "function" and string
// arguments, calls written as text in the backend's format become tool_calls
// (the text around them stays the content, null when nothing is left), and
// finish_reason is "tool_calls" when the answer calls tools. An answer that needs
// none of it is returned as it came. format is ToolCallsNone when the request
// offered no tools.
func fixAnswer(out []byte, format backend.ToolCallFormat, names func() []string) []byte {
	text := format != "" && format != backend.ToolCallsNone
	if !text && !bytes.Contains(out, callsKey) {
		return out
	}
	res := out
	gjson.GetBytes(out, "choices").ForEach(func(key, ch gjson.Result) bool {
		path := "choices." + strconv.FormatInt(key.Int(), 10)
		msg := ch.Get("message")
		calls, changed := answerCalls(msg.Get("tool_calls"))
		content := msg.Get("content")
		var newContent *string
		if text && content.Type == gjson.String {
			if r := newTextCalls(format, names).feed(content.Str, true); !r.verbatim {
				var rest strings.Builder
				n := 0
				for _, it := range r.items {
					if c := it.call; c != nil {
						calls = append(calls, ToolCall{ID: cmp.Or(c.ID, newCallID()), Type: "function",
							Function: FunctionCall{Name: c.Name, Arguments: c.Args}})
						n++
					} else {
						rest.WriteString(it.text)
					}
				}
				if n > 0 {
					s := strings.TrimSpace(rest.String())
					newContent, changed = &s, true
				}
			}
		}
		fix := func(b []byte, err error) {
			if err == nil {
				res = b
			}
		}
		if changed {
			fix(sjson.SetBytes(res, path+".message.tool_calls", calls))
		}
		if newContent != nil && *newContent == "" {
			fix(sjson.SetRawBytes(res, path+".message.content", []byte("null")))
		} else if newContent != nil {
			fix(sjson.SetBytes(res, path+".message.content", *newContent))
		}
		if len(calls) > 0 && ch.Get("finish_reason").Str == "stop" {
			fix(sjson.SetBytes(res, path+".finish_reason", "tool_calls"))
		}
		return true
	})
	return res
}

// answerCalls reads a message's tool_calls, reporting whether any needed a fix.
func answerCalls(arr gjson.Result) (calls []ToolCall, changed bool) {
	arr.ForEach(func(_, v gjson.Result) bool {
		tc := ToolCall{ID: v.Get("id").Str, Type: v.Get("type").Str, Function: FunctionCall{Name: v.Get("function.name").Str}}
		switch a := v.Get("function.arguments"); {
		case a.Type == gjson.String:
			tc.Function.Arguments = a.Str
		case a.Exists() && a.Type != gjson.Null:
			tc.Function.Arguments, changed = a.Raw, true
		default:
			tc.Function.Arguments, changed = "{}", true
		}
		if tc.ID == "" {
			tc.ID, changed = newCallID(), true
		}
		if tc.Type != "function" {
			tc.Type, changed = "function", true
		}
		calls = append(calls, tc)
		return true
	})
	return calls, changed
}

// toolNames returns the function names of a tools array.
func toolNames(tools gjson.Result) []string {
	names := []string{}
	tools.ForEach(func(_, t gjson.Result) bool {
		if n := t.Get("function.name").Str; n != "" {
			names = append(names, n)
		}
		return true
	})
	return names
}
