package simulator

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// streamChat posts req with stream enabled and reads the whole stream.
func streamChat(t *testing.T, ts *httptest.Server, req object) sseStream {
	t.Helper()
	req = maps.Clone(req)
	req["stream"] = true
	return readSSE(t, post(t, ts, "/v1/chat/completions", req))
}

func TestStreamMatchesNonStream(t *testing.T) {
	_, ts := start(t, Options{})
	chunkSchema := openAISchema(t, "CreateChatCompletionStreamResponse")
	image := object{"type": "image_url", "image_url": object{"url": "https://example.com/cat.png"}}
	requests := map[string]object{
		"plain": {"messages": userMessage("stream  me\tplease ")},
		"vision": {"messages": []object{{"role": "user", "content": []object{
			{"type": "text", "text": "describe"}, image,
		}}}},
		"json object": {"messages": userMessage("as json"), "response_format": object{"type": "json_object"}},
		"json schema": {"messages": userMessage("as json"), "response_format": object{
			"type": "json_schema", "json_schema": object{"name": "w", "schema": weatherParams},
		}},
		"length":      {"messages": userMessage("cut me short"), "max_tokens": 4},
		"tool result": {"messages": []object{{"role": "tool", "content": "42"}}, "tools": []object{weatherTool}},
	}
	for name, req := range requests {
		t.Run(name, func(t *testing.T) {
			req["model"] = "sim-chat"
			_, whole := chat(t, ts, req)
			s := streamChat(t, ts, req)
			if !s.done {
				t.Fatalf("stream ended without [DONE]: %v", s.err)
			}
			for _, e := range s.events {
				validate(t, chunkSchema, e)
			}
			chunks := s.chunks(t)
			first, last := chunks[0].Choices[0], chunks[len(chunks)-1].Choices[0]
			if first.Delta.Role != "assistant" || first.Delta.Content == nil || *first.Delta.Content != "" {
				t.Errorf("first delta = %+v, want the assistant role and empty content", first.Delta)
			}
			if last.FinishReason == nil || *last.FinishReason != whole.Choices[0].FinishReason {
				t.Errorf("last finish_reason = %v, want %q", last.FinishReason, whole.Choices[0].FinishReason)
			}
			var text strings.Builder
			contentChunks := 0
			for i, c := range chunks {
				if !strings.HasPrefix(c.ID, "chatcmpl-") || c.ID != chunks[0].ID {
					t.Errorf("chunk %d id %q differs", i, c.ID)
				}
				if c.Object != "chat.completion.chunk" || c.Model != "sim-chat" || c.Usage != nil {
					t.Errorf("chunk %d: object %q model %q usage %v", i, c.Object, c.Model, c.Usage)
				}
				if i > 0 && c.Choices[0].Delta.Content != nil {
					text.WriteString(*c.Choices[0].Delta.Content)
					contentChunks++
				}
				if i < len(chunks)-1 && c.Choices[0].FinishReason != nil {
					t.Errorf("chunk %d has a finish_reason before the end", i)
				}
			}
			if got, want := text.String(), content(t, whole); got != want {
				t.Errorf("streamed content %q, want %q", got, want)
			}
			if contentChunks != whole.Usage.CompletionTokens {
				t.Errorf("%d content chunks, want one per token (%d)", contentChunks, whole.Usage.CompletionTokens)
			}
		})
	}
}

func TestStreamUsageChunk(t *testing.T) {
	_, ts := start(t, Options{})
	for _, include := range []bool{false, true} {
		req := object{"model": "sim-chat", "messages": userMessage("count me")}
		if include {
			req["stream_options"] = object{"include_usage": true}
		}
		s := streamChat(t, ts, req)
		if !s.done {
			t.Fatalf("include_usage %t: no [DONE]: %v", include, s.err)
		}
		var withUsage []int
		for i, e := range s.events {
			var raw object
			if err := json.Unmarshal(e, &raw); err != nil {
				t.Fatal(err)
			}
			if _, ok := raw["usage"]; ok {
				withUsage = append(withUsage, i)
			}
		}
		if !include {
			if len(withUsage) > 0 {
				t.Errorf("usage sent without include_usage, in chunks %v", withUsage)
			}
			continue
		}
		if len(withUsage) != 1 || withUsage[0] != len(s.events)-1 {
			t.Fatalf("usage in chunks %v of %d, want only the last", withUsage, len(s.events))
		}
		last := s.chunks(t)[len(s.events)-1]
		want := usage{PromptTokens: 2, CompletionTokens: 5, TotalTokens: 7}
		if len(last.Choices) != 0 || *last.Usage != want {
			t.Errorf("usage chunk has %d choices and usage %+v, want none and %+v", len(last.Choices), *last.Usage, want)
		}
	}
}

func TestStreamToolCalls(t *testing.T) {
	_, ts := start(t, Options{})
	req := object{
		"model":    "sim-chat",
		"messages": userMessage("get_weather and get_time please"),
		"tools":    []object{weatherTool, timeTool},
	}
	_, whole := chat(t, ts, req)
	s := streamChat(t, ts, req)
	if !s.done {
		t.Fatalf("no [DONE]: %v", s.err)
	}

	type call struct {
		id, name  string
		args      strings.Builder
		fragments int
	}
	var calls []*call
	chunks := s.chunks(t)
	for _, c := range chunks[1 : len(chunks)-1] {
		for _, tc := range c.Choices[0].Delta.ToolCalls {
			switch {
			case tc.Index == len(calls):
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || tc.Function.Arguments != "" {
					t.Errorf("opening chunk of call %d = %+v, want id, type, name and empty arguments", tc.Index, tc)
				}
				calls = append(calls, &call{id: tc.ID, name: tc.Function.Name})
			case tc.Index == len(calls)-1:
				if tc.ID != "" || tc.Function.Name != "" {
					t.Errorf("fragment of call %d repeats id or name: %+v", tc.Index, tc)
				}
				calls[tc.Index].args.WriteString(tc.Function.Arguments)
				calls[tc.Index].fragments++
			default:
				t.Fatalf("tool call index %d out of order", tc.Index)
			}
		}
	}
	if fr := chunks[len(chunks)-1].Choices[0].FinishReason; fr == nil || *fr != "tool_calls" {
		t.Errorf("finish_reason = %v, want tool_calls", fr)
	}
	want := whole.Choices[0].Message.ToolCalls
	if len(calls) != len(want) || len(want) != 2 {
		t.Fatalf("streamed %d calls, non-streamed %d, want 2", len(calls), len(want))
	}
	for i, c := range calls {
		if c.fragments < 2 {
			t.Errorf("call %d arguments came in %d fragments, want at least 2", i, c.fragments)
		}
		if !json.Valid([]byte(c.args.String())) {
			t.Errorf("call %d arguments %q are not JSON", i, c.args.String())
		}
		if c.id != want[i].ID || c.name != want[i].Function.Name || c.args.String() != want[i].Function.Arguments {
			t.Errorf("call %d = %s %s %s, want %+v", i, c.id, c.name, c.args.String(), want[i])
		}
	}
}

// A client that goes away mid-stream must be noticed and counted, which is
// how gateway tests prove that cancellation reaches the backend.
func TestStreamClientCancel(t *testing.T) {
	sim, ts := start(t, Options{TokenDelay: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"` +
		strings.Repeat("word ", 200) + `"}]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := resp.Body.Read(make([]byte, 64)); err != nil {
		t.Fatalf("reading the first chunk: %v", err)
	}
	cancel()
	eventually(t, "Cancelled() == 1", func() bool { return sim.Cancelled() == 1 })
	if sim.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", sim.Requests())
	}
}
