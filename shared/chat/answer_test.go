package chat

import (
	"testing"

	"github.com/tidwall/gjson"

	"spass/shared/backend"
)

func answerOf(message, finish string) []byte {
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"m","choices":[{"index":0,"message":` + message + `,"finish_reason":"` + finish + `"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`)
}

func TestFixAnswer(t *testing.T) {
	names := func() []string { return []string{"get_weather", "get_time"} }
	tests := []struct {
		name    string
		format  backend.ToolCallFormat
		in      []byte
		content string // "null" for null
		calls   []string
		finish  string
	}{
		{"object arguments, no id, finish stop", backend.ToolCallsNone,
			answerOf(`{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Rome"}}}]}`, "stop"),
			"null", []string{rome}, "tool_calls"},
		{"hermes with text before", backend.ToolCallsHermes,
			answerOf(`{"role":"assistant","content":"Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>"}`, "stop"),
			"Checking.", []string{rome}, "tool_calls"},
		{"mistral", backend.ToolCallsMistral,
			answerOf(`{"role":"assistant","content":"[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}, {\"name\": \"get_time\", \"arguments\": {}}]"}`, "stop"),
			"null", []string{rome, "get_time {}"}, "tool_calls"},
		{"llama json", backend.ToolCallsLlamaJSON,
			answerOf(`{"role":"assistant","content":"{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}"}`, "stop"),
			"null", []string{rome}, "tool_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := fixAnswer(tt.in, tt.format, names)
			msg := gjson.GetBytes(out, "choices.0.message")
			if c := msg.Get("content"); c.Raw != tt.content && c.Str != tt.content {
				t.Fatalf("content %s, want %s", c.Raw, tt.content)
			}
			var got []sdkCall
			msg.Get("tool_calls").ForEach(func(_, c gjson.Result) bool {
				got = append(got, sdkCall{c.Get("id").Str, c.Get("type").Str, c.Get("function.name").Str, c.Get("function.arguments").Str})
				if c.Get("function.arguments").Type != gjson.String || c.Get("type").Str != "function" || c.Get("id").Str == "" {
					t.Fatalf("call %s", c.Raw)
				}
				return true
			})
			wantCalls(t, got, tt.calls...)
			if f := gjson.GetBytes(out, "choices.0.finish_reason").Str; f != tt.finish || gjson.GetBytes(out, "usage.total_tokens").Int() != 7 {
				t.Fatalf("finish %q in %s", f, out)
			}
		})
	}
}

func TestFixAnswerLeavesConformantAnswers(t *testing.T) {
	names := func() []string { return []string{"get_weather"} }
	for _, in := range [][]byte{
		answerOf(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"<Rome>\"}"}}]}`, "tool_calls"),
		answerOf(`{"role":"assistant","content":"Rome is <b>sunny</b>"}`, "stop"),
		answerOf(`{"role":"assistant","content":"{\"name\": \"Ann\", \"parameters\": {}}"}`, "stop"),
		answerOf(`{"role":"assistant","content":"<tool_call>{not json}</tool_call>"}`, "stop"),
	} {
		for _, f := range backend.ToolCallFormats() {
			if out := fixAnswer(in, f, names); string(out) != string(in) {
				t.Errorf("%s changed\n%s\nto\n%s", f, in, out)
			}
		}
	}
}
