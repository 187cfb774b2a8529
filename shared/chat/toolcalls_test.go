package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/shared/backend"
)

// ev is a stream event of choice 0 with the given delta and finish reason.
func ev(delta, finish string) []byte {
	f := "null"
	if finish != "" {
		f = `"` + finish + `"`
	}
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + f + `}]}`)
}

// text is a content delta.
func text(s string) []byte {
	b, _ := json.Marshal(s)
	return ev(`{"content":`+string(b)+`}`, "")
}

// relayed runs events through vet and callFix as the relay does, and returns
// what the client gets, with the index of the first output of each input event
// (-1 while it is held).
func relayed(format backend.ToolCallFormat, events ...[]byte) (out [][]byte, at []int) {
	v := &vet{slug: "m", tools: true}
	fx := newCallFix(format, func() []string { return []string{"get_weather", "get_time"} })
	for _, e := range events {
		in := v.check(e)
		if in.invalid {
			panic("invalid test event " + string(e))
		}
		n := len(out)
		if fx.wants(in) {
			out = append(out, fx.fix(e)...)
		} else {
			out = append(out, e)
		}
		at = append(at, map[bool]int{true: n, false: -1}[len(out) > n])
	}
	return append(out, fx.flush()...), at
}

// sdkCall is a call as a strict SDK accumulates it.
type sdkCall struct{ ID, Type, Name, Args string }

// accumulate reads the events as openai-go and the Node SDK do, failing where
// they would misread: an index that is missing or not an integer, a call
// without id or type, arguments that are not a string. Names are appended.
func accumulate(t *testing.T, events [][]byte) (content string, calls []sdkCall, finish string) {
	t.Helper()
	for _, e := range events {
		if !gjson.ValidBytes(e) {
			t.Fatalf("invalid JSON event %s", e)
		}
		ch := gjson.GetBytes(e, "choices.0")
		content += ch.Get("delta.content").Str
		ch.Get("delta.tool_calls").ForEach(func(_, d gjson.Result) bool {
			idx := d.Get("index")
			if idx.Type != gjson.Number || idx.Raw != fmt.Sprint(idx.Int()) {
				t.Fatalf("tool-call delta without an integer index: %s", e)
			}
			i := int(idx.Int())
			for len(calls) <= i {
				calls = append(calls, sdkCall{})
			}
			c := &calls[i]
			if id := d.Get("id").Str; id != "" {
				c.ID = id
			}
			if ty := d.Get("type").Str; ty != "" {
				c.Type = ty
			}
			c.Name += d.Get("function.name").Str
			if a := d.Get("function.arguments"); a.Exists() && a.Type != gjson.String {
				t.Fatalf("arguments are not a string: %s", e)
			}
			c.Args += d.Get("function.arguments").Str
			return true
		})
		if f := ch.Get("finish_reason"); f.Type == gjson.String {
			finish = f.Str
		}
	}
	for i, c := range calls {
		if c.ID == "" || c.Type != "function" || c.Name == "" || !gjson.Valid(c.Args) {
			t.Fatalf("call %d as accumulated: %+v", i, c)
		}
	}
	return content, calls, finish
}

// wantCalls checks names and arguments (ids are checked to differ).
func wantCalls(t *testing.T, calls []sdkCall, want ...string) {
	t.Helper()
	var got []string
	ids := map[string]bool{}
	for _, c := range calls {
		got = append(got, c.Name+" "+compact(c.Args))
		ids[c.ID] = true
	}
	if strings.Join(got, "|") != strings.Join(want, "|") || len(ids) != len(calls) {
		t.Fatalf("calls %+v, want %q", calls, want)
	}
}

func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

const rome = `get_weather {"city":"Rome"}`

func TestConformantToolCallsPassUnchanged(t *testing.T) {
	in := [][]byte{
		ev(`{"role":"assistant","content":""}`, ""),
		ev(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}`, ""),
		ev(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`, ""),
		ev(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Rome\"}"}}]}`, ""),
		ev(`{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}`, ""),
		ev(`{}`, "tool_calls"),
	}
	for _, f := range backend.ToolCallFormats() {
		out, _ := relayed(f, in...)
		if len(out) != len(in) {
			t.Fatalf("%s: %d events out of %d", f, len(out), len(in))
		}
		for i := range in {
			if !bytes.Equal(out[i], in[i]) {
				t.Fatalf("%s: event %d changed:\n%s\n%s", f, i, in[i], out[i])
			}
		}
	}
}

func TestToolCallStyles(t *testing.T) {
	role := ev(`{"role":"assistant","content":""}`, "")
	tests := []struct {
		name   string
		events [][]byte
		want   []string
	}{
		{"no index, whole call, finish stop", [][]byte{role,
			ev(`{"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}`, ""),
			ev(`{}`, "stop")}, []string{rome}},
		{"null index fragments", [][]byte{role,
			ev(`{"tool_calls":[{"index":null,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}`, ""),
			ev(`{"tool_calls":[{"index":null,"function":{"arguments":"{\"city\":"}}]}`, ""),
			ev(`{"tool_calls":[{"index":null,"function":{"arguments":"\"Rome\"}"}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome}},
		{"parallel without index in one chunk", [][]byte{role,
			ev(`{"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome, "get_time {}"}},
		{"parallel without index or id", [][]byte{role,
			ev(`{"tool_calls":[{"function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}`, ""),
			ev(`{"tool_calls":[{"function":{"name":"get_time","arguments":"{}"}}]}`, ""),
			ev(`{}`, "stop")}, []string{rome, "get_time {}"}},
		{"arguments as an object", [][]byte{role,
			ev(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":{"city":"Rome"}}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome}},
		{"missing id and type", [][]byte{role,
			ev(`{"tool_calls":[{"index":0,"function":{"name":"get_weather","arguments":""}}]}`, ""),
			ev(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Rome\"}"}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome}},
		{"name repeated in every fragment", [][]byte{role,
			ev(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`, ""),
			ev(`{"tool_calls":[{"index":0,"function":{"name":"get_weather","arguments":"\"Rome\"}"}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome}},
		{"index 0 reused with a new id", [][]byte{role,
			ev(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}`, ""),
			ev(`{"tool_calls":[{"index":0,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome, "get_time {}"}},
		{"index starting at 1", [][]byte{role,
			ev(`{"tool_calls":[{"index":1,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}`, ""),
			ev(`{}`, "tool_calls")}, []string{rome}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := relayed(backend.ToolCallsNone, tt.events...)
			content, calls, finish := accumulate(t, out)
			if content != "" || finish != "tool_calls" {
				t.Fatalf("content %q finish %q", content, finish)
			}
			wantCalls(t, calls, tt.want...)
		})
	}
}

// tokens splits s into content events of n bytes.
func tokens(s string, n int) [][]byte {
	var out [][]byte
	for len(s) > n {
		out = append(out, text(s[:n]))
		s = s[n:]
	}
	return append(out, text(s))
}

func TestTextToolCalls(t *testing.T) {
	role := ev(`{"role":"assistant","content":""}`, "")
	call := `{"name": "get_weather", "arguments": {"city": "Rome"}}`
	tests := []struct {
		name        string
		format      backend.ToolCallFormat
		text        []string // content pieces
		wantContent string
		want        []string
	}{
		{"hermes", backend.ToolCallsHermes, []string{"<tool_call>", "\n", call[:10], call[10:30], call[30:], "\n", "</tool_call>"}, "", []string{rome}},
		{"hermes after text", backend.ToolCallsHermes, []string{"Let me look.", "\n<tool_call>", call, "</tool_call>"}, "Let me look.\n", []string{rome}},
		{"hermes marker in pieces", backend.ToolCallsHermes, []string{"  ", "<tool", "_call>", call, "</tool_", "call>"}, "", []string{rome}},
		{"hermes mid-text marker in pieces", backend.ToolCallsHermes, []string{"Sure <", "tool_call>", call, "</tool_call>"}, "Sure ", []string{rome}},
		{"hermes two calls, last tag missing", backend.ToolCallsHermes, []string{"<tool_call>", call, "</tool_call>", "\n", "<tool_call>", `{"name":"get_time","arguments":{}}`}, "", []string{rome, "get_time {}"}},
		{"mistral", backend.ToolCallsMistral, []string{"[TOOL_CALLS]", "[" + call[:20], call[20:] + `, {"name":"get_time","arguments":{}}]`}, "", []string{rome, "get_time {}"}},
		{"mistral args form", backend.ToolCallsMistral, []string{"[TOOL_CALLS]", "get_weather", "[AR", "GS]", `{"city": "Rome"}`}, "", []string{rome}},
		{"llama json", backend.ToolCallsLlamaJSON, []string{`{"name": "get_weather", `, `"parameters": {"city": "Rome"}}`}, "", []string{rome}},
		{"llama json tag and two calls", backend.ToolCallsLlamaJSON, []string{"<|python_tag|>", `{"name": "get_weather", "parameters": {"city": "Rome"}}`, "; ", `{"name": "get_time", "parameters": {}}`}, "", []string{rome, "get_time {}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := []([]byte){role}
			for _, p := range tt.text {
				events = append(events, text(p))
			}
			events = append(events, ev(`{}`, "stop"))
			out, _ := relayed(tt.format, events...)
			content, calls, finish := accumulate(t, out)
			if content != tt.wantContent || finish != "tool_calls" {
				t.Fatalf("content %q finish %q, want %q", content, finish, tt.wantContent)
			}
			wantCalls(t, calls, tt.want...)
			if !bytes.Equal(out[0], role) {
				t.Fatalf("the role chunk changed: %s", out[0])
			}
		})
	}
}

// TestTextStaysText: content that is not a call, or not a valid one, reaches
// the client as it came, and plain text is not held.
func TestTextStaysText(t *testing.T) {
	tests := []struct {
		name   string
		format backend.ToolCallFormat
		text   []string
		held   []int // pieces held until a later one (indexes into text)
	}{
		{"plain text", backend.ToolCallsHermes, []string{"Hello", " world", "!"}, nil},
		{"leading whitespace", backend.ToolCallsHermes, []string{"\n", " Hello"}, []int{0}},
		{"a prefix of the marker", backend.ToolCallsHermes, []string{"<", "b>bold</b>"}, []int{0}},
		{"text ending in a marker prefix", backend.ToolCallsHermes, []string{"a <", "b", " c"}, []int{0}},
		{"invalid call", backend.ToolCallsHermes, []string{"<tool_call>", "{not json", "</tool_call>", " after"}, []int{0, 1}},
		{"mistral plain", backend.ToolCallsMistral, []string{"[TOOL", " is a tag"}, []int{0}},
		{"llama JSON that calls no offered tool", backend.ToolCallsLlamaJSON, []string{`{"name": "Ann",`, ` "age": 3}`, " ok"}, []int{0}},
		{"llama plain", backend.ToolCallsLlamaJSON, []string{"Hi", " {json}"}, nil},
		{"no format", backend.ToolCallsNone, []string{"<tool_call>", `{"name":"get_time"}`, "</tool_call>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events [][]byte
			for _, p := range tt.text {
				events = append(events, text(p))
			}
			events = append(events, ev(`{}`, "stop"))
			out, at := relayed(tt.format, events...)
			if len(out) != len(events) {
				t.Fatalf("%d events out of %d", len(out), len(events))
			}
			for i := range events {
				if !bytes.Equal(out[i], events[i]) {
					t.Fatalf("event %d changed:\n%s\n%s", i, events[i], out[i])
				}
			}
			for i := range tt.text {
				if held := at[i] < 0; held != containsInt(tt.held, i) {
					t.Errorf("piece %d %q held %v", i, tt.text[i], held)
				}
			}
		})
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestFlushWithoutFinish(t *testing.T) {
	out, _ := relayed(backend.ToolCallsHermes, text("<tool"))
	if len(out) != 1 || !bytes.Equal(out[0], text("<tool")) {
		t.Fatalf("held text not released at the end: %q", out)
	}
}

func TestHeldTextIsBounded(t *testing.T) {
	events := [][]byte{text("<tool_call>{\"name\":\"get_time\",\"arguments\":\"")}
	for range 20 {
		events = append(events, text(strings.Repeat("x", 64<<10)))
	}
	out, at := relayed(backend.ToolCallsHermes, events...)
	if at[len(at)-1] < 0 || len(out) != len(events) {
		t.Fatalf("%d events out of %d; last one held: %v", len(out), len(events), at[len(at)-1] < 0)
	}
}
