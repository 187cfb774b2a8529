package chat

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
)

// Message is one chat message as OpenAI's Chat Completions API shapes it. Surfaces
// that keep history (/c1, /a1) store and replay these; the core returns the
// assistant's as Reply.
type Message struct {
	Role string `json:"role"`
	// Content is the text; Parts replaces it for multi-part content (vision).
	Content    string     `json:"-"`
	Parts      []Part     `json:"-"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// Part is one part of multi-part content: text or an image.
type Part struct {
	Type     string    `json:"type"` // text or image_url
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image part's target: a URL, a data URL or spass://images/<id>.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// ToolCall is one function call of an assistant message.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments as JSON text.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// message is Message on the wire: content is a string, an array of parts, or null
// (an assistant turn that only calls tools).
type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// MarshalJSON writes the OpenAI shape.
func (m Message) MarshalJSON() ([]byte, error) {
	w := message{Role: m.Role, Name: m.Name, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID}
	var err error
	switch {
	case len(m.Parts) > 0:
		w.Content, err = json.Marshal(m.Parts)
	case m.Content == "" && len(m.ToolCalls) > 0:
		w.Content = json.RawMessage("null")
	default:
		w.Content, err = json.Marshal(m.Content)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the OpenAI shape; content may be a string, parts or null.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w message
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{Role: w.Role, Name: w.Name, ToolCalls: w.ToolCalls, ToolCallID: w.ToolCallID}
	c := bytes.TrimSpace(w.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '[':
		return json.Unmarshal(c, &m.Parts)
	default:
		return json.Unmarshal(c, &m.Content)
	}
	return nil
}

// Text is the message's text: its content, or its text parts joined.
func (m Message) Text() string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Reply is the assistant's answer to a request, as the client received it.
type Reply struct {
	Message      Message
	FinishReason string
}

// EstimateTokens is the size in tokens the gateway assumes for a message or text
// whose tokenizer it does not know: about four bytes a token, plus a message's
// framing. Surfaces that fit history into a window (/c1, /a1) use it alike.
func EstimateTokens(b []byte) int { return len(b)/4 + 4 }

// Params are the sampling settings of a request built from typed messages.
type Params struct {
	Temperature *float64
	MaxTokens   int
	Stream      bool
}

// NewRequest builds a chat request from typed messages, for surfaces that
// compose the conversation themselves (agents, compaction, batch lines). The body
// is validated like a client's.
func NewRequest(model string, msgs []Message, p Params) (*Request, error) {
	body, err := json.Marshal(struct {
		Model         string          `json:"model"`
		Messages      []Message       `json:"messages"`
		Temperature   *float64        `json:"temperature,omitempty"`
		MaxTokens     int             `json:"max_tokens,omitempty"`
		Stream        bool            `json:"stream,omitempty"`
		StreamOptions map[string]bool `json:"stream_options,omitempty"`
	}{model, msgs, p.Temperature, p.MaxTokens, p.Stream, streamUsage(p.Stream)})
	if err != nil {
		return nil, apierr.E(apierr.InvalidRequest, "", err)
	}
	return ParseChat(body)
}

// streamUsage asks a stream for its usage chunk.
func streamUsage(stream bool) map[string]bool {
	if !stream {
		return nil
	}
	return map[string]bool{"include_usage": true}
}

// prepend puts history before the request's messages, after the request's leading
// system messages (a named system prompt stays first), and parses the body again.
// Without history the request stays as it is.
func (r *Request) prepend(history []Message) error {
	if len(history) == 0 {
		return nil
	}
	var lead, rest [][]byte
	gjson.GetBytes(r.Raw, "messages").ForEach(func(_, m gjson.Result) bool {
		if len(rest) == 0 && (m.Get("role").Str == "system" || m.Get("role").Str == "developer") {
			lead = append(lead, []byte(m.Raw))
		} else {
			rest = append(rest, []byte(m.Raw))
		}
		return true
	})
	all := lead
	for _, m := range history {
		b, err := json.Marshal(m)
		if err != nil {
			return apierr.E(apierr.InvalidRequest, "", err)
		}
		all = append(all, b)
	}
	all = append(all, rest...)
	msgs := append(append([]byte{'['}, bytes.Join(all, []byte{','})...), ']')
	raw, err := sjson.SetRawBytes(r.Raw, "messages", msgs)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	nr, err := ParseChat(raw)
	if err != nil {
		return err
	}
	*r = *nr
	return nil
}

// replyOf reads the assistant message of a complete JSON answer.
func replyOf(answer []byte) Reply {
	ch := gjson.GetBytes(answer, "choices.0")
	var r Reply
	json.Unmarshal([]byte(ch.Get("message").Raw), &r.Message)
	if r.Message.Role == "" {
		r.Message.Role = "assistant"
	}
	r.FinishReason = ch.Get("finish_reason").Str
	return r
}

// transcript keeps a stream's events as the client received them, each behind its
// length, so Result.Reply can assemble the message after the fact: the relay pays
// one append per event, and /v1, which never asks, nothing more.
type transcript []byte

func (t *transcript) add(data []byte) {
	*t = binary.AppendUvarint(*t, uint64(len(data)))
	*t = append(*t, data...)
}

// reply assembles the assistant message from the recorded chunks: content
// deltas joined, tool-call fragments assembled by index (names may come late,
// arguments in the first fragment or as objects), and the last finish reason.
func (t transcript) reply() Reply {
	r := Reply{Message: Message{Role: "assistant"}}
	var content strings.Builder
	calls := map[int64]*ToolCall{}
	for b := []byte(t); len(b) > 0; {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			break
		}
		data := b[k : k+int(n)]
		b = b[k+int(n):]
		ch := gjson.GetBytes(data, "choices.0")
		if !ch.Exists() {
			continue
		}
		content.WriteString(ch.Get("delta.content").Str)
		ch.Get("delta.tool_calls").ForEach(func(_, d gjson.Result) bool {
			i := d.Get("index").Int()
			tc := calls[i]
			if tc == nil {
				tc = &ToolCall{Type: "function"}
				calls[i] = tc
			}
			if id := d.Get("id").Str; id != "" {
				tc.ID = id
			}
			if name := d.Get("function.name").Str; name != "" {
				tc.Function.Name = name
			}
			if a := d.Get("function.arguments"); a.Type == gjson.String {
				tc.Function.Arguments += a.Str
			} else if a.Exists() && a.Type != gjson.Null {
				tc.Function.Arguments += a.Raw
			}
			return true
		})
		if f := ch.Get("finish_reason"); f.Type == gjson.String {
			r.FinishReason = f.Str
		}
	}
	r.Message.Content = content.String()
	idx := make([]int64, 0, len(calls))
	for i := range calls {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	for _, i := range idx {
		r.Message.ToolCalls = append(r.Message.ToolCalls, *calls[i])
	}
	return r
}
