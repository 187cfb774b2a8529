package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// respRequest is the subset of OpenAI's Responses API request the simulator
// reads; it stands in for a backend that serves /v1/responses natively (vLLM,
// OpenAI). The answer is decided as for the same chat request.
type respRequest struct {
	Model           string            `json:"model"`
	Input           json.RawMessage   `json:"input"`
	Instructions    string            `json:"instructions"`
	Tools           []json.RawMessage `json:"tools"`
	ToolChoice      json.RawMessage   `json:"tool_choice"`
	MaxOutputTokens *int              `json:"max_output_tokens"`
	Stream          bool              `json:"stream"`
	Text            *struct {
		Format *struct {
			Type   string          `json:"type"`
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	} `json:"text"`
}

// respItem is one input item: a message, a function call or its output.
type respItem struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	Name      string          `json:"name"`
	CallID    string          `json:"call_id"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

// asChat is the chat request with the same meaning.
func (r respRequest) asChat() (chatRequest, error) {
	c := chatRequest{Model: r.Model, MaxTokens: r.MaxOutputTokens, ToolChoice: r.ToolChoice}
	if r.Instructions != "" {
		c.Messages = append(c.Messages, chatMessage{Role: "system", Content: quoted(r.Instructions)})
	}
	var text string
	if json.Unmarshal(r.Input, &text) == nil {
		c.Messages = append(c.Messages, chatMessage{Role: "user", Content: quoted(text)})
	} else {
		var items []respItem
		if err := json.Unmarshal(r.Input, &items); err != nil {
			return c, err
		}
		for _, it := range items {
			switch it.Type {
			case "", "message":
				t := itemText(it.Content)
				c.Messages = append(c.Messages, chatMessage{Role: it.Role, Content: quoted(t)})
			case "function_call":
				c.Messages = append(c.Messages, chatMessage{Role: "assistant", Content: json.RawMessage("null")})
			case "function_call_output":
				out := string(it.Output)
				var s string
				if json.Unmarshal(it.Output, &s) == nil {
					out = s
				}
				c.Messages = append(c.Messages, chatMessage{Role: "tool", Content: quoted(out)})
			}
		}
	}
	for _, raw := range r.Tools {
		var t struct {
			Type        string          `json:"type"`
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		}
		if json.Unmarshal(raw, &t) == nil && t.Type == "function" {
			var ct tool
			ct.Type, ct.Function.Name, ct.Function.Description, ct.Function.Parameters = "function", t.Name, t.Description, t.Parameters
			c.Tools = append(c.Tools, ct)
		}
	}
	var forced struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(r.ToolChoice, &forced) == nil && forced.Name != "" {
		c.ToolChoice, _ = json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": forced.Name}})
	}
	if r.Text != nil && r.Text.Format != nil && r.Text.Format.Type != "text" {
		c.ResponseFormat = &responseFormat{Type: r.Text.Format.Type}
		if len(r.Text.Format.Schema) > 0 {
			c.ResponseFormat.JSONSchema = &struct {
				Schema json.RawMessage `json:"schema"`
			}{r.Text.Format.Schema}
		}
	}
	return c, nil
}

// itemText is a message item's text: a string, or its text parts joined.
func itemText(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(content, &parts)
	for _, p := range parts {
		s += p.Text
	}
	return s
}

func quoted(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// handleResponses implements POST /v1/responses.
func (s *Server) handleResponses(x *exchange) {
	var req respRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	if e, ok := s.checkModel(req.Model); !ok {
		x.fail(e)
		return
	}
	creq, err := req.asChat()
	if err != nil || len(creq.Messages) == 0 {
		x.fail(errMissingParam("input"))
		return
	}
	c := answer(creq)
	resp := map[string]any{
		"id": fmt.Sprintf("resp_sim%08d", x.seq), "object": "response", "created_at": time.Now().Unix(),
		"status": "in_progress", "error": nil, "incomplete_details": nil, "instructions": nil, "model": req.Model,
		"output": []any{}, "parallel_tool_calls": true, "tools": []any{}, "tool_choice": "auto",
		"temperature": 1.0, "top_p": 1.0, "metadata": map[string]any{}, "text": map[string]any{"format": map[string]any{"type": "text"}},
	}
	var items []map[string]any
	if text := c.content(); len(c.toolCalls) == 0 {
		items = append(items, map[string]any{"id": fmt.Sprintf("msg_sim%08d", x.seq), "type": "message", "status": "completed", "role": "assistant",
			"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}}})
	}
	for i, tc := range c.toolCalls {
		items = append(items, map[string]any{"id": fmt.Sprintf("fc_sim%08d_%d", x.seq, i), "type": "function_call", "status": "completed",
			"call_id": tc.ID, "name": tc.Function.Name, "arguments": tc.Function.Arguments})
	}
	done := func() map[string]any {
		out := map[string]any{}
		for k, v := range resp {
			out[k] = v
		}
		out["status"], out["output"] = "completed", items
		if c.finishReason == "length" {
			out["status"], out["incomplete_details"] = "incomplete", map[string]string{"reason": "max_output_tokens"}
		}
		out["usage"] = map[string]any{"input_tokens": c.usage.PromptTokens, "input_tokens_details": map[string]int{"cached_tokens": 0, "cache_write_tokens": 0},
			"output_tokens": c.usage.CompletionTokens, "output_tokens_details": map[string]int{"reasoning_tokens": 0}, "total_tokens": c.usage.TotalTokens}
		return out
	}
	if !req.Stream {
		x.respond(done())
		return
	}
	s.streamResponse(x, resp, c, items, done())
}

// streamResponse sends the Responses API's events for the answer.
func (s *Server) streamResponse(x *exchange, resp map[string]any, c completion, items []map[string]any, final map[string]any) {
	x.w.Header().Set("Content-Type", "text/event-stream")
	x.w.Header().Set("Cache-Control", "no-cache")
	x.w.WriteHeader(http.StatusOK)
	sw := &sseWriter{x: x, rc: http.NewResponseController(x.w), delay: s.opts.TokenDelay}
	seq := 0
	send := func(typ string, ev map[string]any) bool {
		ev["type"], ev["sequence_number"] = typ, seq
		seq++
		return sw.event(ev)
	}
	if !send("response.created", map[string]any{"response": resp}) || !send("response.in_progress", map[string]any{"response": resp}) {
		return
	}
	for i, it := range items {
		id := it["id"]
		added := map[string]any{}
		for k, v := range it {
			added[k] = v
		}
		added["status"] = "in_progress"
		if it["type"] == "message" {
			added["content"] = []any{}
		} else {
			added["arguments"] = ""
		}
		if !send("response.output_item.added", map[string]any{"output_index": i, "item": added}) {
			return
		}
		if it["type"] == "message" {
			part := map[string]any{"type": "output_text", "text": "", "annotations": []any{}, "logprobs": []any{}}
			if !send("response.content_part.added", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "part": part}) {
				return
			}
			for _, tok := range c.tokens {
				if !x.wait(sw.delay) || !send("response.output_text.delta", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "delta": tok, "logprobs": []any{}}) {
					return
				}
			}
			text := c.content()
			part["text"] = text
			if !send("response.output_text.done", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "text": text, "logprobs": []any{}}) ||
				!send("response.content_part.done", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "part": part}) {
				return
			}
		} else {
			args := it["arguments"]
			if !send("response.function_call_arguments.delta", map[string]any{"item_id": id, "output_index": i, "delta": args}) ||
				!send("response.function_call_arguments.done", map[string]any{"item_id": id, "output_index": i, "name": it["name"], "arguments": args}) {
				return
			}
		}
		if !send("response.output_item.done", map[string]any{"output_index": i, "item": it}) {
			return
		}
	}
	if x.cut {
		abortResponse(x.w)
	}
	typ := "response.completed"
	if final["status"] == "incomplete" {
		typ = "response.incomplete"
	}
	send(typ, map[string]any{"response": final})
}
