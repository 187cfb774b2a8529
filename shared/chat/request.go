// Package chat is the one chat pipeline that /v1, /c1 and /a1 call: it validates the
// request, picks the backends that can serve it, falls back along the model's tier
// chain before the first byte, and relays the answer (SSE event by event) while
// collecting usage. Bodies are forwarded as received; only the fields the gateway
// must change (model id, stream_options) are spliced in place.
package chat

import (
	"bytes"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

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
	// StackTools is the SPASS-Tools header: "none", a list of tool names, or empty.
	StackTools string
}

// ParseChat validates a /v1/chat/completions body without re-encoding it.
func ParseChat(body []byte) (*Request, error) {
	if err := checkObject(body); err != nil {
		return nil, err
	}
	f := gjson.GetManyBytes(body, "model", "messages", "stream", "stream_options.include_usage", "tools", "response_format.type")
	model, msgs, stream, incl, tools, rf := f[0], f[1], f[2], f[3], f[4], f[5]
	req := &Request{Raw: body, Needs: []backend.Capability{backend.Chat}}
	if model.Type != gjson.String || model.Str == "" {
		return nil, apierr.P(apierr.MissingParameter, "model", "You must provide a model parameter.")
	}
	req.Model = model.Str
	if !msgs.IsArray() || len(msgs.Array()) == 0 {
		return nil, apierr.P(apierr.MissingParameter, "messages", "messages must be a non-empty array.")
	}
	if stream.Exists() && stream.Type != gjson.True && stream.Type != gjson.False && stream.Type != gjson.Null {
		return nil, apierr.P(apierr.InvalidRequest, "stream", "stream must be a boolean.")
	}
	req.Stream = stream.Type == gjson.True
	req.IncludeUsage = incl.Type == gjson.True
	if tools.IsArray() && len(tools.Array()) > 0 {
		req.Needs = append(req.Needs, backend.Tools)
	}
	if rf.Str == "json_object" || rf.Str == "json_schema" {
		req.Needs = append(req.Needs, backend.JSONMode)
	}
	if hasImage(msgs) {
		req.Needs = append(req.Needs, backend.Vision)
	}
	return req, nil
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

// checkObject refuses bodies that are not a JSON object, and user_id anywhere at the
// top level: end users are named by the SPASS-User-Id header only.
func checkObject(body []byte) error {
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) == 0 || t[0] != '{' || !gjson.ValidBytes(body) {
		return apierr.E(apierr.InvalidJSON, "", nil)
	}
	if gjson.GetBytes(body, "user_id").Exists() {
		return apierr.P(apierr.UserIDInBody, "user_id", "")
	}
	return nil
}

// hasImage reports whether any message has an image_url content part.
func hasImage(msgs gjson.Result) bool {
	if !bytes.Contains([]byte(msgs.Raw), []byte(`image_url`)) {
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

// upstreamBody returns body with the fields the gateway must change for target
// model up: the model id when the backend names it differently, and usage in streams.
func upstreamBody(raw []byte, slug, up string, askUsage bool) ([]byte, error) {
	var err error
	b := raw
	if up != slug {
		if b, err = sjson.SetBytes(b, "model", up); err != nil {
			return nil, err
		}
	}
	if askUsage {
		if b, err = sjson.SetBytes(b, "stream_options.include_usage", true); err != nil {
			return nil, err
		}
	}
	return b, nil
}
