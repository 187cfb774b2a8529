package openai

import (
	"cmp"
	"encoding/json"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/chat"
	"spass/shared/response"
)

// respObject is the Response object of OpenAI's Responses API, as the gateway
// builds it from a chat answer (and for the stream's opening events).
type respObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	CompletedAt        *int64            `json:"completed_at"`
	Error              *respError        `json:"error"`
	IncompleteDetails  *incomplete       `json:"incomplete_details"`
	Instructions       json.RawMessage   `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []json.RawMessage `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Reasoning          *json.RawMessage  `json:"reasoning"`
	Store              bool              `json:"store"`
	Temperature        float64           `json:"temperature"`
	Text               respText          `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              []json.RawMessage `json:"tools"`
	TopP               float64           `json:"top_p"`
	Truncation         string            `json:"truncation"`
	Usage              *respUsage        `json:"usage,omitempty"`
	User               *string           `json:"user,omitempty"`
	Metadata           json.RawMessage   `json:"metadata"`
}

// respError is a failed response's error.
type respError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// incomplete says why a response stopped early.
type incomplete struct {
	Reason string `json:"reason"`
}

// respUsage is the Responses API's token accounting.
type respUsage struct {
	InputTokens         int64        `json:"input_tokens"`
	InputTokensDetails  cachedTokens `json:"input_tokens_details"`
	OutputTokens        int64        `json:"output_tokens"`
	OutputTokensDetails reasonTokens `json:"output_tokens_details"`
	TotalTokens         int64        `json:"total_tokens"`
}

type cachedTokens struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
}

type reasonTokens struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// respUsageOf turns the core's usage into the Responses shape.
func respUsageOf(u chat.Usage) *respUsage {
	return &respUsage{InputTokens: u.Prompt, InputTokensDetails: cachedTokens{CachedTokens: u.Cached},
		OutputTokens: u.Completion, TotalTokens: u.Prompt + u.Completion}
}

// newRespObject is the response r will become, in progress and without output:
// what the stream's first events show, and the frame of the finished object.
func newRespObject(id string, r *respRequest) *respObject {
	o := &respObject{ID: id, Object: "response", CreatedAt: time.Now().Unix(), Status: "in_progress", Model: r.Model,
		Instructions: json.RawMessage("null"), MaxOutputTokens: r.MaxOutputTokens, Output: []json.RawMessage{},
		ParallelToolCalls: r.ParallelToolCalls == nil || *r.ParallelToolCalls, Store: r.stored(),
		Temperature: 1, TopP: 1, Text: respText{Format: json.RawMessage(`{"type":"text"}`)},
		ToolChoice: json.RawMessage(`"auto"`), Tools: toolsShown(r.Tools), Truncation: "disabled", Metadata: json.RawMessage("{}")}
	if len(r.Instructions) > 0 {
		o.Instructions = r.Instructions
	}
	if r.PreviousResponseID != "" {
		o.PreviousResponseID = &r.PreviousResponseID
	}
	if r.Temperature != nil {
		o.Temperature = *r.Temperature
	}
	if r.TopP != nil {
		o.TopP = *r.TopP
	}
	if r.Text != nil && len(r.Text.Format) > 0 {
		o.Text.Format = r.Text.Format
	}
	if len(r.ToolChoice) > 0 && string(r.ToolChoice) != "null" {
		o.ToolChoice = r.ToolChoice
	}
	if r.User != "" {
		o.User = &r.User
	}
	if len(r.Metadata) > 0 && string(r.Metadata) != "null" {
		o.Metadata = r.Metadata
	}
	return o
}

// toolsShown is the tools as a Response object lists them: every field of a
// function tool present (strict and parameters may be null).
func toolsShown(tools []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(tools))
	for _, raw := range tools {
		t := gjson.ParseBytes(raw)
		null := func(v gjson.Result) json.RawMessage {
			if !v.Exists() {
				return json.RawMessage("null")
			}
			return json.RawMessage(v.Raw)
		}
		b, _ := json.Marshal(struct {
			Type        string          `json:"type"`
			Name        string          `json:"name"`
			Description json.RawMessage `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
			Strict      json.RawMessage `json:"strict"`
		}{"function", t.Get("name").Str, null(t.Get("description")), null(t.Get("parameters")), null(t.Get("strict"))})
		out = append(out, b)
	}
	return out
}

// finish sets the outcome: completed, or incomplete when the model stopped at the
// token limit or a content filter.
func (o *respObject) finish(finishReason string, u chat.Usage) {
	o.Status = "completed"
	switch finishReason {
	case "length":
		o.Status, o.IncompleteDetails = "incomplete", &incomplete{"max_output_tokens"}
	case "content_filter":
		o.Status, o.IncompleteDetails = "incomplete", &incomplete{"content_filter"}
	default:
		now := time.Now().Unix()
		o.CompletedAt = &now
	}
	o.Usage = respUsageOf(u)
}

// textItem is an assistant message item with one output_text part.
func textItem(id, text, status string) json.RawMessage {
	b, _ := json.Marshal(struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Status  string `json:"status"`
		Role    string `json:"role"`
		Content []any  `json:"content"`
	}{id, "message", status, "assistant", []any{textPart(text)}})
	return b
}

// outputText is an output_text content part.
type outputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
}

func textPart(text string) outputText {
	return outputText{Type: "output_text", Text: text, Annotations: []any{}, Logprobs: []any{}}
}

// callItem is a function_call output item.
func callItem(id string, tc chat.ToolCall, status string) json.RawMessage {
	b, _ := json.Marshal(struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Status    string `json:"status"`
		CallID    string `json:"call_id"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}{id, "function_call", status, tc.ID, tc.Function.Name, tc.Function.Arguments})
	return b
}

// fromReply fills o's output from a chat reply: its text as a message, each
// tool call as a function_call.
func (o *respObject) fromReply(r chat.Reply) {
	if text := r.Message.Text(); text != "" {
		o.Output = append(o.Output, textItem(response.NewID("msg_"), text, "completed"))
	}
	for _, tc := range r.Message.ToolCalls {
		o.Output = append(o.Output, callItem(response.NewID("fc_"), tc, "completed"))
	}
}

// nativeAnswer adopts a native backend's response object as the gateway's: the
// gateway's id and model slug, and the client's store and previous_response_id
// (the backend was asked not to store it, with the conversation inlined).
func nativeAnswer(body []byte, o *respObject) []byte {
	set := func(path string, v any) {
		if b, err := sjson.SetBytes(body, path, v); err == nil {
			body = b
		}
	}
	set("id", o.ID)
	set("model", o.Model)
	set("store", o.Store)
	set("previous_response_id", o.PreviousResponseID)
	if !gjson.GetBytes(body, "created_at").Exists() {
		set("created_at", o.CreatedAt)
	}
	return body
}

// storedOf is the record kept of a finished response.
func storedOf(o *respObject, tenant, user string, input []json.RawMessage, body []byte) response.Response {
	in, _ := json.Marshal(input)
	prev := ""
	if o.PreviousResponseID != nil {
		prev = *o.PreviousResponseID
	}
	return response.Response{ID: o.ID, TenantID: tenant, UserID: user, PreviousID: prev, Model: o.Model,
		Status: cmp.Or(gjson.GetBytes(body, "status").Str, o.Status), Input: in, Body: body, CreatedAt: o.CreatedAt}
}
