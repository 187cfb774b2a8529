package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func userMessage(text string) []object {
	return []object{{"role": "user", "content": text}}
}

// chat posts a non-streaming chat request and returns the raw body and the
// decoded completion.
func chat(t *testing.T, ts *httptest.Server, req object) ([]byte, chatCompletion) {
	t.Helper()
	resp := post(t, ts, "/v1/chat/completions", req)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var c chatCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Choices) != 1 {
		t.Fatalf("got %d choices, want 1", len(c.Choices))
	}
	return body, c
}

func content(t *testing.T, c chatCompletion) string {
	t.Helper()
	if c.Choices[0].Message.Content == nil {
		t.Fatal("content is null")
	}
	return *c.Choices[0].Message.Content
}

func TestChatCompletionShape(t *testing.T) {
	_, ts := start(t, Options{})
	body, _ := chat(t, ts, object{
		"model": "sim-chat",
		"messages": []object{
			{"role": "system", "content": "be nice"},
			{"role": "user", "content": "hi there"},
		},
	})
	validate(t, openAISchema(t, "CreateChatCompletionResponse"), body)

	var got object
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if id, _ := got["id"].(string); !strings.HasPrefix(id, "chatcmpl-") {
		t.Errorf("id = %q, want chatcmpl- prefix", id)
	}
	if got["object"] != "chat.completion" || got["model"] != "sim-chat" {
		t.Errorf("object/model = %v/%v", got["object"], got["model"])
	}
	if created, _ := got["created"].(float64); created <= 0 {
		t.Errorf("created = %v", got["created"])
	}
	choice := got["choices"].([]any)[0].(object)
	msg := choice["message"].(object)
	want := object{"role": "assistant", "content": "Hello! You said: hi there", "refusal": nil}
	for k, v := range want {
		if got, ok := msg[k]; !ok || got != v {
			t.Errorf("message.%s = %v (present %t), want %v", k, got, ok, v)
		}
	}
	if lp, ok := choice["logprobs"]; !ok || lp != nil {
		t.Errorf("logprobs = %v (present %t), want null", lp, ok)
	}
	if choice["finish_reason"] != "stop" {
		t.Errorf("finish_reason = %v", choice["finish_reason"])
	}
	wantUsage := object{"prompt_tokens": 4.0, "completion_tokens": 5.0, "total_tokens": 9.0}
	for k, v := range wantUsage {
		if u := got["usage"].(object)[k]; u != v {
			t.Errorf("usage.%s = %v, want %v", k, u, v)
		}
	}
}

func TestChatReplies(t *testing.T) {
	_, ts := start(t, Options{})
	image := object{"type": "image_url", "image_url": object{"url": "data:image/png;base64,AAAA"}}
	tests := []struct {
		name     string
		messages []object
		tools    []object
		want     string
	}{
		{"echoes last user message", []object{
			{"role": "user", "content": "first"},
			{"role": "assistant", "content": "ok"},
			{"role": "user", "content": "second  message"},
		}, nil, "Hello! You said: second  message"},
		{"joins text parts", []object{{"role": "user", "content": []object{
			{"type": "text", "text": "one"}, {"type": "text", "text": "two"},
		}}}, nil, "Hello! You said: one two"},
		{"mentions images", []object{{"role": "user", "content": []object{
			{"type": "text", "text": "What is this?"}, image,
		}}}, nil, "I see an image. Hello! You said: What is this?"},
		{"reports tool results", []object{
			{"role": "user", "content": "weather?"},
			{"role": "assistant", "content": nil, "tool_calls": []object{{
				"id": "call_1", "type": "function",
				"function": object{"name": "get_weather", "arguments": "{}"},
			}}},
			{"role": "tool", "tool_call_id": "call_1", "content": "22C and sunny"},
		}, []object{weatherTool}, "The result is: 22C and sunny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := chat(t, ts, object{"model": "sim-vision", "messages": tt.messages, "tools": tt.tools})
			if got := content(t, c); got != tt.want {
				t.Errorf("content = %q, want %q", got, tt.want)
			}
			if c.Choices[0].FinishReason != "stop" || len(c.Choices[0].Message.ToolCalls) != 0 {
				t.Errorf("finish_reason %q with %d tool calls, want a plain stop",
					c.Choices[0].FinishReason, len(c.Choices[0].Message.ToolCalls))
			}
		})
	}
}

func TestChatTokenLimits(t *testing.T) {
	_, ts := start(t, Options{})
	tests := []struct {
		limit      string
		n          int
		want       string
		wantFinish string
	}{
		{"max_tokens", 2, "Hello! You", "length"},
		{"max_completion_tokens", 3, "Hello! You said:", "length"},
		{"max_tokens", 5, "Hello! You said: a b", "stop"},
		{"max_tokens", 100, "Hello! You said: a b", "stop"},
	}
	for _, tt := range tests {
		_, c := chat(t, ts, object{"model": "sim-chat", "messages": userMessage("a b"), tt.limit: tt.n})
		if got := content(t, c); got != tt.want || c.Choices[0].FinishReason != tt.wantFinish {
			t.Errorf("%s=%d: got %q/%s, want %q/%s", tt.limit, tt.n, got, c.Choices[0].FinishReason, tt.want, tt.wantFinish)
		}
		if c.Usage.CompletionTokens != len(strings.Fields(tt.want)) {
			t.Errorf("%s=%d: completion_tokens = %d", tt.limit, tt.n, c.Usage.CompletionTokens)
		}
	}
}

func TestChatJSONObject(t *testing.T) {
	_, ts := start(t, Options{})
	_, c := chat(t, ts, object{
		"model":           "sim-chat",
		"messages":        userMessage(`say "hi"`),
		"response_format": object{"type": "json_object"},
	})
	var got struct{ Answer string }
	if err := json.Unmarshal([]byte(content(t, c)), &got); err != nil {
		t.Fatalf("content is not JSON: %v", err)
	}
	if got.Answer != `Hello! You said: say "hi"` {
		t.Errorf("answer = %q", got.Answer)
	}
}

func TestChatJSONSchema(t *testing.T) {
	_, ts := start(t, Options{})
	schema := object{
		"type": "object",
		"properties": object{
			"name":    object{"type": "string"},
			"age":     object{"type": "integer", "minimum": 18},
			"score":   object{"type": "number"},
			"admin":   object{"type": "boolean"},
			"tags":    object{"type": "array", "items": object{"type": "string"}, "minItems": 1},
			"role":    object{"enum": []string{"owner", "guest"}},
			"nick":    object{"anyOf": []object{{"type": "null"}, {"type": "string"}}},
			"address": object{"$ref": "#/$defs/address"},
		},
		"required":             []string{"name", "age", "score", "admin", "tags", "role", "nick", "address"},
		"additionalProperties": false,
		"$defs": object{"address": object{
			"type":       "object",
			"properties": object{"city": object{"type": "string"}, "zip": object{"type": []string{"string", "null"}}},
			"required":   []string{"city", "zip"},
		}},
	}
	_, c := chat(t, ts, object{
		"model":    "sim-chat",
		"messages": userMessage("who am I"),
		"response_format": object{"type": "json_schema", "json_schema": object{
			"name": "person", "strict": true, "schema": schema,
		}},
	})
	validate(t, compileSchema(t, schema, "person.json"), []byte(content(t, c)))

	// Without properties there is nothing to fill, so the reply is wrapped.
	_, c = chat(t, ts, object{
		"model":    "sim-chat",
		"messages": userMessage("anything"),
		"response_format": object{"type": "json_schema", "json_schema": object{
			"name": "free", "schema": object{"type": "object"},
		}},
	})
	var got struct{ Answer string }
	if err := json.Unmarshal([]byte(content(t, c)), &got); err != nil || got.Answer != "Hello! You said: anything" {
		t.Errorf("content %q (err %v), want an answer object", content(t, c), err)
	}
}

func TestChatErrors(t *testing.T) {
	_, ts := start(t, Options{})
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"invalid JSON", `{"model":`, http.StatusBadRequest, ""},
		{"missing messages", object{"model": "sim-chat"}, http.StatusBadRequest, "missing_required_parameter"},
		{"missing model", object{"messages": userMessage("hi")}, http.StatusBadRequest, "missing_required_parameter"},
		{"unknown model", object{"model": "gpt-9", "messages": userMessage("hi")}, http.StatusNotFound, "model_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAPIError(t, post(t, ts, "/v1/chat/completions", tt.body), tt.status, tt.code)
		})
	}
}

func TestCustomModels(t *testing.T) {
	_, ts := start(t, Options{Models: []string{"llama-3", " ", "llama-3"}})
	list := decode[modelList](t, get(t, ts, "/v1/models"), http.StatusOK)
	if list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != "llama-3" ||
		list.Data[0].Object != "model" || list.Data[0].OwnedBy != "simulator" {
		t.Errorf("models = %+v, want just llama-3", list)
	}
	chat(t, ts, object{"model": "llama-3", "messages": userMessage("hi")})
	checkAPIError(t, post(t, ts, "/v1/chat/completions", object{"model": "sim-chat", "messages": userMessage("hi")}),
		http.StatusNotFound, "model_not_found")
}
