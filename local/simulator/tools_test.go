package simulator

import (
	"encoding/json"
	"slices"
	"testing"
)

var (
	weatherParams = object{
		"type": "object",
		"properties": object{
			"city": object{"type": "string"},
			"unit": object{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
		},
		"required": []string{"city", "unit"},
	}
	weatherTool = object{"type": "function", "function": object{"name": "get_weather", "parameters": weatherParams}}
	timeTool    = object{"type": "function", "function": object{"name": "get_time"}}
)

func TestChatToolCalls(t *testing.T) {
	_, ts := start(t, Options{})
	weatherSchema := compileSchema(t, weatherParams, "weather.json")
	tests := []struct {
		name       string
		text       string
		toolChoice any
		wantNames  []string
		wantArgs   string // empty: generated from the schema
	}{
		{"named with literal arguments", `use get_weather with {"city": "Paris", "unit": "celsius"} please`, nil,
			[]string{"get_weather"}, `{"city":"Paris","unit":"celsius"}`},
		{"all named tools in tools order", "call get_time then get_weather {\"city\":\"Oslo\"}", "auto",
			[]string{"get_weather", "get_time"}, ""},
		{"forced by tool_choice", "what now?", object{"type": "function", "function": object{"name": "get_time"}},
			[]string{"get_time"}, "{}"},
		{"first tool by default", "what now? {not json}", "required", []string{"get_weather"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := object{"model": "sim-chat", "messages": userMessage(tt.text), "tools": []object{weatherTool, timeTool}}
			if tt.toolChoice != nil {
				req["tool_choice"] = tt.toolChoice
			}
			body, c := chat(t, ts, req)
			validate(t, openAISchema(t, "CreateChatCompletionResponse"), body)
			choice := c.Choices[0]
			if choice.FinishReason != "tool_calls" || choice.Message.Content != nil {
				t.Errorf("finish_reason %q, content %v; want tool_calls and null", choice.FinishReason, choice.Message.Content)
			}
			var names []string
			for i, call := range choice.Message.ToolCalls {
				names = append(names, call.Function.Name)
				if want := []string{"call_1", "call_2"}[i]; call.ID != want || call.Type != "function" {
					t.Errorf("call %d: id %q type %q", i, call.ID, call.Type)
				}
				switch {
				case tt.wantArgs != "":
					if call.Function.Arguments != tt.wantArgs {
						t.Errorf("arguments = %s, want %s", call.Function.Arguments, tt.wantArgs)
					}
				case call.Function.Name == "get_weather":
					validate(t, weatherSchema, []byte(call.Function.Arguments))
				case !json.Valid([]byte(call.Function.Arguments)):
					t.Errorf("arguments %q are not JSON", call.Function.Arguments)
				}
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("called %v, want %v", names, tt.wantNames)
			}
			if c.Usage.CompletionTokens < 1 {
				t.Errorf("completion_tokens = %d", c.Usage.CompletionTokens)
			}
		})
	}
}

func TestChatToolChoiceNone(t *testing.T) {
	_, ts := start(t, Options{})
	_, c := chat(t, ts, object{
		"model":       "sim-chat",
		"messages":    userMessage("get_weather for Paris"),
		"tools":       []object{weatherTool},
		"tool_choice": "none",
	})
	if got := content(t, c); got != "Hello! You said: get_weather for Paris" || len(c.Choices[0].Message.ToolCalls) > 0 {
		t.Errorf("content %q with %d tool calls, want a plain reply", got, len(c.Choices[0].Message.ToolCalls))
	}
}

func TestFirstJSONObject(t *testing.T) {
	tests := []struct {
		text, want string
		ok         bool
	}{
		{`x {"a": {"b": "}"}} y {"c":1}`, `{"a":{"b":"}"}}`, true},
		{`{broken} then {"ok": true}`, `{"ok":true}`, true},
		{`{"unterminated": 1`, "", false},
		{"no braces", "", false},
	}
	for _, tt := range tests {
		got, ok := firstJSONObject(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("firstJSONObject(%q) = %q, %t; want %q, %t", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}
