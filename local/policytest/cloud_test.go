package policytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
)

// cloud is an OpenAI-compatible upstream standing in for a cloud provider: it
// keeps every body it received and answers with the last user message, "You
// said: ...". Streams come two characters per delta, so placeholders arrive
// split across events. When the request offers the caller's tool "send", it
// calls it with the message as argument, streamed in pieces as well. It serves
// the Responses API natively too (see serveResponses).
type cloud struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
	paths  []string
}

func newCloud(t *testing.T) *cloud {
	c := &cloud{}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// requested returns the path of every request the cloud was sent.
func (c *cloud) requested() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

// received returns every body the cloud was sent.
func (c *cloud) received() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bodies...)
}

func (c *cloud) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[]}`)
		return
	}
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(b))
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	req := gjson.ParseBytes(b)
	if strings.HasSuffix(r.URL.Path, "/responses") {
		serveResponses(w, req)
		return
	}
	said := ""
	req.Get("messages").ForEach(func(_, m gjson.Result) bool {
		if m.Get("role").Str == "user" {
			said = m.Get("content").Str
		}
		return true
	})
	text := "You said: " + said
	call := req.Get(`tools.#(function.name=="send")`).Exists()
	args, _ := json.Marshal(map[string]string{"text": said})
	model := req.Get("model").Str
	usage := map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
	if !req.Get("stream").Bool() {
		msg := map[string]any{"role": "assistant", "content": text}
		finish := "stop"
		if call {
			msg = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
				"id": "call_1", "type": "function", "function": map[string]any{"name": "send", "arguments": string(args)}}}}
			finish = "tool_calls"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-cloud", "object": "chat.completion", "created": 1, "model": model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	event := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-cloud", "object": "chat.completion.chunk", "created": 1, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	event(map[string]any{"role": "assistant", "content": ""}, nil)
	finish := "stop"
	if call {
		event(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_1", "type": "function",
			"function": map[string]any{"name": "send", "arguments": ""}}}}, nil)
		for _, piece := range pieces(string(args), 3) {
			event(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": piece}}}}, nil)
		}
		finish = "tool_calls"
	} else {
		for _, piece := range pieces(text, 2) {
			event(map[string]any{"content": piece}, nil)
		}
	}
	event(map[string]any{}, finish)
	u, _ := json.Marshal(map[string]any{"id": "chatcmpl-cloud", "object": "chat.completion.chunk", "created": 1, "model": model,
		"choices": []any{}, "usage": usage})
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", u)
}

// serveResponses answers a Responses API request natively, as serve does a
// chat request: "You said: " and the last user input, or a call of "send" with
// it when the request offers that tool; one response object, or its named
// events with the text and arguments in pieces.
func serveResponses(w http.ResponseWriter, req gjson.Result) {
	said := req.Get("input").Str
	req.Get("input").ForEach(func(_, it gjson.Result) bool {
		if it.Get("role").Str == "user" {
			if said = it.Get("content").Str; said == "" {
				said = it.Get("content.0.text").Str
			}
		}
		return true
	})
	text := "You said: " + said
	item := map[string]any{"id": "msg_cloud", "type": "message", "role": "assistant", "status": "completed",
		"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}}}
	call := req.Get(`tools.#(name=="send")`).Exists()
	args, _ := json.Marshal(map[string]string{"text": said})
	if call {
		item = map[string]any{"id": "fc_cloud", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "send", "arguments": string(args)}
	}
	done := map[string]any{"id": "resp_cloud", "object": "response", "created_at": 1, "status": "completed", "model": req.Get("model").Str,
		"instructions": req.Get("instructions").Value(), "output": []any{item}, "usage": map[string]int{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}}
	if !req.Get("stream").Bool() {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(done)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	seq := 0
	event := func(typ string, fields map[string]any) {
		fields["type"], fields["sequence_number"] = typ, seq
		seq++
		b, _ := json.Marshal(fields)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
	}
	event("response.created", map[string]any{"response": map[string]any{"id": "resp_cloud", "object": "response", "status": "in_progress",
		"instructions": req.Get("instructions").Value(), "output": []any{}}})
	if call {
		for _, piece := range pieces(string(args), 3) {
			event("response.function_call_arguments.delta", map[string]any{"item_id": "fc_cloud", "output_index": 0, "delta": piece})
		}
		event("response.function_call_arguments.done", map[string]any{"item_id": "fc_cloud", "output_index": 0, "arguments": string(args)})
	} else {
		for _, piece := range pieces(text, 2) {
			event("response.output_text.delta", map[string]any{"item_id": "msg_cloud", "output_index": 0, "content_index": 0, "delta": piece})
		}
		event("response.output_text.done", map[string]any{"item_id": "msg_cloud", "output_index": 0, "content_index": 0, "text": text})
	}
	event("response.output_item.done", map[string]any{"output_index": 0, "item": item})
	event("response.completed", map[string]any{"response": done})
}

// pieces cuts s into pieces of n bytes (the test texts are ASCII).
func pieces(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// streamed reads an SSE answer: the text and the first tool call's arguments,
// as a client assembles them, and whether it ended with [DONE].
func streamed(t *testing.T, body io.Reader) (text, args string, done bool) {
	t.Helper()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	var tb, ab strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		if e := gjson.Get(data, "error"); e.Exists() {
			t.Fatalf("stream error: %s", data)
		}
		tb.WriteString(gjson.Get(data, "choices.0.delta.content").Str)
		ab.WriteString(gjson.Get(data, "choices.0.delta.tool_calls.0.function.arguments").Str)
	}
	return tb.String(), ab.String(), done
}
