// Package chat is the one chat pipeline that /v1, /c1 and /a1 call: it validates the
// request, picks the backends that can serve it, falls back along the model's tier
// chain before the first byte, and relays the answer (SSE event by event) while
// collecting usage. Bodies are forwarded as received; only the fields the gateway
// must change (model id, stream_options) are spliced in place.
package chat

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/backend"
)

// Request is a chat completion request as the gateway needs to see it: the raw body
// plus the few fields routing depends on.
type Request struct {
	Raw    []byte
	Model  string
	Stream bool
	// IncludeUsage is what the client asked for; the gateway always asks upstream.
	IncludeUsage bool
	Needs        []backend.Capability

	deterministic bool                  // one choice, temperature 0 or a seed: see cacheable
	streamSet     bool                  // the body has "stream"
	streamNull    bool                  // ... and it is null
	needs         [4]backend.Capability // Needs' storage
}

// chatFields are the top-level fields of a chat body the gateway reads.
type chatFields struct {
	model, messages, stream, streamOptions, tools, responseFormat gjson.Result
	userID, temperature, seed, n, toolChoice                      gjson.Result
	// dup names a field the body holds twice, "" when none does.
	dup string
}

// scanChat finds the fields in one pass over the top level, rather than one pass
// per field. A field the gateway reads that appears twice is reported in dup: the
// gateway would read the first, Python backends the last, and policy and billing
// must see what the backend serves.
func scanChat(body []byte) (f chatFields) {
	gjson.Parse(view(body)).ForEach(func(k, v gjson.Result) bool {
		var dst *gjson.Result
		switch k.Str {
		case "model":
			dst = &f.model
		case "messages":
			dst = &f.messages
		case "stream":
			dst = &f.stream
		case "stream_options":
			dst = &f.streamOptions
		case "tools":
			dst = &f.tools
		case "response_format":
			dst = &f.responseFormat
		case "user_id":
			dst = &f.userID
		case "temperature":
			dst = &f.temperature
		case "seed":
			dst = &f.seed
		case "n":
			dst = &f.n
		case "tool_choice":
			dst = &f.toolChoice
		default:
			return true
		}
		if dst.Exists() {
			f.dup = k.Str
			return false
		}
		*dst = v
		return true
	})
	return f
}

// dupKey returns a key that appears twice in the object, or "".
func dupKey(obj gjson.Result) string {
	var seen []string
	dup := ""
	obj.ForEach(func(k, _ gjson.Result) bool {
		if slices.Contains(seen, k.Str) {
			dup = k.Str
			return false
		}
		seen = append(seen, k.Str)
		return true
	})
	return dup
}

// ParseChat validates a /v1/chat/completions body without re-encoding it.
func ParseChat(body []byte) (*Request, error) {
	if !isObject(body) {
		return nil, apierr.E(apierr.InvalidJSON, "", nil)
	}
	f := scanChat(body)
	if f.dup == "" && f.streamOptions.IsObject() {
		if d := dupKey(f.streamOptions); d != "" {
			f.dup = "stream_options." + d
		}
	}
	if f.dup != "" {
		return nil, apierr.P(apierr.DuplicateKey, bounded(f.dup, 64), "")
	}
	if f.userID.Exists() {
		return nil, apierr.P(apierr.UserIDInBody, "user_id", "")
	}
	req := &Request{Raw: body}
	req.Needs = append(req.needs[:0], backend.Chat)
	if f.model.Type != gjson.String || f.model.Str == "" {
		return nil, apierr.P(apierr.MissingParameter, "model", "You must provide a model parameter.")
	}
	// A strict parser reads invalid UTF-8 as U+FFFD (Go) or refuses it (Python):
	// policy and billing must not see a model name other than the backend's.
	if !utf8.ValidString(f.model.Str) {
		return nil, apierr.P(apierr.InvalidRequest, "model", "model must be valid UTF-8.")
	}
	req.Model = strings.Clone(f.model.Str) // labels metrics: must not pin the body
	if !f.messages.IsArray() || !nonEmpty(f.messages) {
		return nil, apierr.P(apierr.MissingParameter, "messages", "messages must be a non-empty array.")
	}
	stream := f.stream
	if stream.Exists() && stream.Type != gjson.True && stream.Type != gjson.False && stream.Type != gjson.Null {
		return nil, apierr.P(apierr.InvalidRequest, "stream", "stream must be a boolean.")
	}
	req.Stream = stream.Type == gjson.True
	req.streamSet, req.streamNull = stream.Exists(), stream.Type == gjson.Null
	req.IncludeUsage = f.streamOptions.Get("include_usage").Type == gjson.True
	if f.tools.IsArray() && nonEmpty(f.tools) {
		req.Needs = append(req.Needs, backend.Tools)
	}
	if rf := f.responseFormat.Get("type").Str; rf == "json_object" || rf == "json_schema" {
		req.Needs = append(req.Needs, backend.JSONMode)
	}
	if hasImage(f.messages) {
		req.Needs = append(req.Needs, backend.Vision)
	}
	req.deterministic = !(f.n.Exists() && f.n.Int() != 1) &&
		((f.temperature.Exists() && f.temperature.Type == gjson.Number && f.temperature.Float() == 0) || f.seed.Type == gjson.Number)
	return req, nil
}

// bounded cuts s to at most n bytes: messages never echo unbounded client input.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// nonEmpty reports whether an array has an element.
func nonEmpty(arr gjson.Result) bool {
	n := 0
	arr.ForEach(func(_, _ gjson.Result) bool { n++; return false })
	return n > 0
}

// EmbeddingsRequest is a /v1/embeddings body.
type EmbeddingsRequest struct {
	Raw   []byte
	Model string
}

// ParseEmbeddings validates a /v1/embeddings body.
func ParseEmbeddings(body []byte) (*EmbeddingsRequest, error) {
	if err := checkObject(body); err != nil {
		return nil, err
	}
	f := gjson.GetManyBytes(body, "model", "input")
	if f[0].Type != gjson.String || f[0].Str == "" {
		return nil, apierr.P(apierr.MissingParameter, "model", "You must provide a model parameter.")
	}
	if !f[1].Exists() || f[1].Type == gjson.Null {
		return nil, apierr.P(apierr.MissingParameter, "input", "You must provide an input parameter.")
	}
	if f[1].Type == gjson.String && f[1].Str == "" {
		return nil, apierr.P(apierr.InvalidRequest, "input", "input must not be empty.")
	}
	return &EmbeddingsRequest{Raw: body, Model: f[0].Str}, nil
}

// isObject reports whether body is one valid JSON object.
func isObject(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && gjson.ValidBytes(body)
}

// checkObject refuses bodies that are not a JSON object, and user_id anywhere at the
// top level: end users are named by the SPASS-User-Id header only.
func checkObject(body []byte) error {
	if !isObject(body) {
		return apierr.E(apierr.InvalidJSON, "", nil)
	}
	if gjson.GetBytes(body, "user_id").Exists() {
		return apierr.P(apierr.UserIDInBody, "user_id", "")
	}
	return nil
}

// hasImage reports whether any message has an image_url content part.
func hasImage(msgs gjson.Result) bool {
	if !strings.Contains(msgs.Raw, `image_url`) {
		return false
	}
	found := false
	msgs.ForEach(func(_, m gjson.Result) bool {
		m.Get("content").ForEach(func(_, part gjson.Result) bool {
			found = part.Get("type").Str == "image_url"
			return !found
		})
		return !found
	})
	return found
}
