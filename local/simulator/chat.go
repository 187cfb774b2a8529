package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// chatRequest is the subset of OpenAI's CreateChatCompletionRequest that
// steers the simulator; everything else is accepted and ignored.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	ResponseFormat      *responseFormat `json:"response_format"`
	Tools               []tool          `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type responseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"` // string, array of parts, or null
}

// chatCompletion is OpenAI's CreateChatCompletionResponse.
type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             usage        `json:"usage"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      responseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     *struct{}       `json:"logprobs"` // always null
}

type responseMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	Refusal   *string    `json:"refusal"` // always null
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// systemFingerprint identifies the simulator in responses, where real
// backends identify their build.
const systemFingerprint = "fp_simulator"

// completion is the simulator's answer to a chat request, decided once so
// that the streaming and non-streaming encodings agree exactly.
type completion struct {
	tokens       []string // content split into tokens; they concatenate to the content
	toolCalls    []toolCall
	finishReason string
	usage        usage
}

func (c completion) content() string { return strings.Join(c.tokens, "") }

// handleChat implements POST /v1/chat/completions.
func (s *Server) handleChat(x *exchange) {
	var req chatRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	if e, ok := s.checkModel(req.Model); !ok {
		x.fail(e)
		return
	}
	if len(req.Messages) == 0 {
		x.fail(errMissingParam("messages"))
		return
	}

	if !x.wait(s.prefill(req)) { // prefixcache.go
		return
	}
	st := s.ToolStyle()
	c := styled(answer(req), st)
	s.keepAnswer(req, c)
	id := fmt.Sprintf("chatcmpl-sim%08d", x.seq)
	created := time.Now().Unix()
	if req.Stream {
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		s.streamChat(x, chatChunk{
			ID:                id,
			Object:            "chat.completion.chunk",
			Created:           created,
			Model:             req.Model,
			SystemFingerprint: systemFingerprint,
		}, c, includeUsage, st)
		return
	}

	if !x.wait(s.opts.TokenDelay * time.Duration(c.usage.CompletionTokens)) {
		return
	}
	msg := responseMessage{Role: "assistant", ToolCalls: c.toolCalls}
	if len(c.toolCalls) == 0 {
		msg.Content = new(c.content())
	}
	x.respond(restyled(chatCompletion{
		ID:                id,
		Object:            "chat.completion",
		Created:           created,
		Model:             req.Model,
		SystemFingerprint: systemFingerprint,
		Choices:           []chatChoice{{Message: msg, FinishReason: c.finishReason}},
		Usage:             c.usage,
	}, st))
}

// answer decides the deterministic reply to req:
//   - after a tool result, it reports that result;
//   - when tools are offered in reply to a user, it calls them;
//   - otherwise it echoes the last user message.
//
// Text replies are then formatted as JSON if the request asks for it and
// truncated to the token limit.
func answer(req chatRequest) completion {
	var c completion
	last := req.Messages[len(req.Messages)-1]
	lastText, _ := messageText(last.Content)

	var reply string
	switch first := firstUserText(req.Messages); {
	case last.Role == "tool" && toolsEnabled(req) && strings.Contains(first, "forever"):
		// A model stuck in a loop, for tests of the gateway's round limit.
		c.toolCalls = chooseToolCalls(req.Tools, req.ToolChoice, first)
	case isGuard(req.Model) && last.Role == "user":
		reply = GuardVerdict(lastText) // a Llama Guard style classifier
	case last.Role == "tool":
		reply = "The result is: " + lastText
	case last.Role == "user" && toolsEnabled(req):
		if c.toolCalls = chooseToolCalls(req.Tools, req.ToolChoice, lastText); len(c.toolCalls) == 0 {
			reply = echo(req.Messages)
		}
	default:
		reply = echo(req.Messages)
	}

	if len(c.toolCalls) > 0 {
		c.finishReason = "tool_calls"
		for _, call := range c.toolCalls {
			c.usage.CompletionTokens += countWords(call.Function.Arguments)
		}
		c.usage.CompletionTokens = max(c.usage.CompletionTokens, 1)
	} else {
		c.tokens = splitTokens(formatReply(reply, req.ResponseFormat))
		c.finishReason = "stop"
		if limit, ok := tokenLimit(req); ok && limit < len(c.tokens) {
			c.tokens = truncateTokens(c.tokens, limit)
			c.finishReason = "length"
		}
		c.usage.CompletionTokens = len(c.tokens)
	}

	for _, m := range req.Messages {
		text, _ := messageText(m.Content)
		c.usage.PromptTokens += countWords(text)
	}
	c.usage.PromptTokens = max(c.usage.PromptTokens, 1)
	c.usage.TotalTokens = c.usage.PromptTokens + c.usage.CompletionTokens
	return c
}

// firstUserText is the text of the conversation's first user message.
func firstUserText(messages []chatMessage) string {
	for _, m := range messages {
		if m.Role == "user" {
			text, _ := messageText(m.Content)
			return text
		}
	}
	return ""
}

// echo is the plain reply: it repeats the last user message, and mentions
// any image so tests can tell that multimodal content reached the backend.
func echo(messages []chatMessage) string {
	var said string
	var sawImage bool
	for _, m := range messages {
		if m.Role != "user" {
			continue
		}
		text, image := messageText(m.Content)
		said = text
		sawImage = sawImage || image
	}
	reply := strings.TrimSpace("Hello! You said: " + said)
	if sawImage {
		reply = "I see an image. " + reply
	}
	return reply
}

// formatReply applies the request's response_format to reply. The result
// always parses as JSON when JSON output was requested.
func formatReply(reply string, rf *responseFormat) string {
	if rf == nil {
		return reply
	}
	answerObject := map[string]any{"answer": reply}
	var v any
	switch rf.Type {
	case "json_object":
		v = answerObject
	case "json_schema":
		v = answerObject
		if rf.JSONSchema != nil {
			if schema, ok := parseSchema(rf.JSONSchema.Schema); ok && hasProperties(schema) {
				v = exampleFor(schema)
			}
		}
	default:
		return reply
	}
	out, err := json.Marshal(v)
	if err != nil {
		return reply
	}
	return string(out)
}

// tokenLimit returns the completion token limit requested, if any.
// max_completion_tokens supersedes the deprecated max_tokens, as in OpenAI.
func tokenLimit(req chatRequest) (int, bool) {
	for _, limit := range []*int{req.MaxCompletionTokens, req.MaxTokens} {
		if limit != nil && *limit > 0 {
			return *limit, true
		}
	}
	return 0, false
}
