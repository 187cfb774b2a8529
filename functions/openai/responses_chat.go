package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/chat"
)

// chatMessages translates Responses items to Chat Completions messages: a
// function_call joins the assistant message before it (or opens one), its output
// becomes a tool message; reasoning items are dropped.
func chatMessages(items []json.RawMessage) ([]chat.Message, error) {
	var out []chat.Message
	for i, raw := range items {
		it := gjson.ParseBytes(raw)
		switch it.Get("type").Str {
		case "", "message":
			m, err := chatMessage(it, i)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		case "function_call":
			tc := chat.ToolCall{ID: it.Get("call_id").Str, Type: "function",
				Function: chat.FunctionCall{Name: it.Get("name").Str, Arguments: it.Get("arguments").Str}}
			if n := len(out); n > 0 && out[n-1].Role == "assistant" {
				out[n-1].ToolCalls = append(out[n-1].ToolCalls, tc)
			} else {
				out = append(out, chat.Message{Role: "assistant", ToolCalls: []chat.ToolCall{tc}})
			}
		case "function_call_output":
			o := it.Get("output")
			text := o.Str
			if o.IsArray() {
				text = partsText(o)
			}
			out = append(out, chat.Message{Role: "tool", ToolCallID: it.Get("call_id").Str, Content: text})
		}
	}
	return out, nil
}

// chatMessage translates one message item.
func chatMessage(it gjson.Result, i int) (chat.Message, error) {
	m := chat.Message{Role: it.Get("role").Str}
	if m.Role == "developer" {
		m.Role = "system"
	}
	c := it.Get("content")
	if c.Type == gjson.String {
		m.Content = c.Str
		return m, nil
	}
	var err error
	c.ForEach(func(j, p gjson.Result) bool {
		switch typ := p.Get("type").Str; typ {
		case "input_text", "output_text", "text":
			m.Parts = append(m.Parts, chat.Part{Type: "text", Text: p.Get("text").Str})
		case "refusal":
			m.Parts = append(m.Parts, chat.Part{Type: "text", Text: p.Get("refusal").Str})
		case "input_image":
			url := p.Get("image_url").Str
			if url == "" {
				err = apierr.P(apierr.InvalidRequest, fmt.Sprintf("input[%d].content[%d].image_url", i, j.Int()),
					"An input_image needs an image_url (a URL, a data URL or spass://images/<id>).")
				return false
			}
			m.Parts = append(m.Parts, chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: url, Detail: p.Get("detail").Str}})
		default:
			err = apierr.P(apierr.InvalidRequest, fmt.Sprintf("input[%d].content[%d].type", i, j.Int()),
				"The gateway reads content parts input_text, output_text and input_image; not "+apierr.Quote(bounded(typ))+".")
			return false
		}
		return true
	})
	if err != nil {
		return m, err
	}
	if m.Role != "user" || !hasImagePart(m.Parts) { // only user messages carry images in Chat Completions
		m.Content, m.Parts = m.Text(), nil
	}
	return m, nil
}

func hasImagePart(parts []chat.Part) bool {
	for _, p := range parts {
		if p.Type == "image_url" {
			return true
		}
	}
	return false
}

// partsText joins the text of content parts.
func partsText(parts gjson.Result) string {
	var b strings.Builder
	parts.ForEach(func(_, p gjson.Result) bool {
		b.WriteString(p.Get("text").Str)
		return true
	})
	return b.String()
}

// chatTools translates function tools from the Responses shape (name at the top)
// to the Chat Completions shape (under "function").
func chatTools(tools []json.RawMessage) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(tools))
	for i, raw := range tools {
		t := gjson.ParseBytes(raw)
		if typ := t.Get("type").Str; typ != "function" {
			return nil, apierr.P(apierr.InvalidRequest, fmt.Sprintf("tools[%d].type", i),
				"The gateway serves function tools on /v1/responses; not "+apierr.Quote(bounded(typ))+".")
		}
		if t.Get("name").Str == "" {
			return nil, apierr.P(apierr.MissingParameter, fmt.Sprintf("tools[%d].name", i), "A function tool needs a name.")
		}
		fn := map[string]json.RawMessage{"name": json.RawMessage(t.Get("name").Raw)}
		for _, k := range []string{"description", "parameters", "strict"} {
			if v := t.Get(k); v.Exists() && v.Type != gjson.Null {
				fn[k] = json.RawMessage(v.Raw)
			}
		}
		b, err := json.Marshal(map[string]any{"type": "function", "function": fn})
		if err != nil {
			return nil, apierr.E(apierr.InvalidRequest, "", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// chatToolChoice translates tool_choice: the strings pass, a named function
// moves under "function".
func chatToolChoice(raw json.RawMessage) (json.RawMessage, error) {
	c := gjson.ParseBytes(raw)
	switch {
	case len(raw) == 0 || c.Type == gjson.Null:
		return nil, nil
	case c.Type == gjson.String && (c.Str == "auto" || c.Str == "none" || c.Str == "required"):
		return raw, nil
	case c.Get("type").Str == "function" && c.Get("name").Str != "":
		return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": c.Get("name").Str}})
	}
	return nil, apierr.P(apierr.InvalidRequest, "tool_choice", "tool_choice must be auto, none, required or {\"type\":\"function\",\"name\":...}.")
}

// chatFormat translates text.format to response_format.
func chatFormat(t *respText) (json.RawMessage, error) {
	if t == nil || len(t.Format) == 0 {
		return nil, nil
	}
	f := gjson.ParseBytes(t.Format)
	switch f.Get("type").Str {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		if !f.Get("schema").IsObject() || f.Get("name").Str == "" {
			return nil, apierr.P(apierr.InvalidRequest, "text.format", "A json_schema format needs a name and a schema.")
		}
		js := map[string]json.RawMessage{"name": json.RawMessage(f.Get("name").Raw), "schema": json.RawMessage(f.Get("schema").Raw)}
		for _, k := range []string{"description", "strict"} {
			if v := f.Get(k); v.Exists() && v.Type != gjson.Null {
				js[k] = json.RawMessage(v.Raw)
			}
		}
		return json.Marshal(map[string]any{"type": "json_schema", "json_schema": js})
	}
	return nil, apierr.P(apierr.InvalidRequest, "text.format.type", "text.format.type must be text, json_object or json_schema.")
}

// chatBody is the Chat Completions form of a Responses request.
type chatBody struct {
	Model             string            `json:"model"`
	Messages          []chat.Message    `json:"messages"`
	Tools             []json.RawMessage `json:"tools,omitempty"`
	ToolChoice        json.RawMessage   `json:"tool_choice,omitempty"`
	ResponseFormat    json.RawMessage   `json:"response_format,omitempty"`
	MaxTokens         *int              `json:"max_tokens,omitempty"`
	Temperature       *float64          `json:"temperature,omitempty"`
	TopP              *float64          `json:"top_p,omitempty"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	Stream            bool              `json:"stream"`
	StreamOptions     map[string]bool   `json:"stream_options,omitempty"`
}

// chatRequest builds the chat form of r with the given input items: instructions
// first as a system message, then the items. History goes in through the core.
func chatRequest(r *respRequest, items []json.RawMessage) (*chat.Request, error) {
	b := chatBody{Model: r.Model, MaxTokens: r.MaxOutputTokens, Temperature: r.Temperature, TopP: r.TopP,
		ParallelToolCalls: r.ParallelToolCalls, Stream: r.Stream}
	if r.Stream {
		b.StreamOptions = map[string]bool{"include_usage": true}
	}
	if in := gjson.ParseBytes(r.Instructions); in.Type == gjson.String && in.Str != "" {
		b.Messages = append(b.Messages, chat.Message{Role: "system", Content: in.Str})
	}
	msgs, err := chatMessages(items)
	if err != nil {
		return nil, err
	}
	b.Messages = append(b.Messages, msgs...)
	if b.Tools, err = chatTools(r.Tools); err != nil {
		return nil, err
	}
	if len(b.Tools) == 0 {
		b.Tools = nil
	}
	if b.ToolChoice, err = chatToolChoice(r.ToolChoice); err != nil {
		return nil, err
	}
	if b.ResponseFormat, err = chatFormat(r.Text); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, apierr.E(apierr.InvalidRequest, "", err)
	}
	return chat.ParseChat(raw)
}
