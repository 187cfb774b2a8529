package chat

import (
	"bytes"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// upstreamBody returns the client's body as the backend must read it: the
// upstream model id when the backend names the model differently, an explicit
// "stream" (a backend must never guess whether to stream: a stream it was not
// asked for would read as the backend's failure), and usage in streams.
func upstreamBody(req *Request, up string) ([]byte, error) {
	b, err := upstreamModel(req.Raw, req.Model, up)
	if err != nil {
		return nil, err
	}
	switch {
	case !req.streamSet:
		b = withStream(b, req.Stream)
	case req.streamNull:
		if b, err = sjson.SetBytes(b, "stream", false); err != nil {
			return nil, err
		}
	}
	if req.Stream && !req.IncludeUsage {
		if b, err = sjson.SetBytes(b, "stream_options.include_usage", true); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// upstreamModel returns raw with the model id the backend knows, when it differs.
func upstreamModel(raw []byte, slug, up string) ([]byte, error) {
	if up == slug {
		return raw, nil
	}
	return sjson.SetBytes(raw, "model", up)
}

// withStream puts "stream" first in the body, which has none (ParseChat checked).
func withStream(b []byte, stream bool) []byte {
	i := bytes.IndexByte(b, '{')
	field := `"stream":false,`
	if stream {
		field = `"stream":true,`
	}
	out := make([]byte, 0, len(b)+len(field))
	out = append(out, b[:i+1]...)
	out = append(out, field...)
	return append(out, b[i+1:]...)
}

var modelKey = []byte(`"model":"`)

// slugged returns a chunk or answer that names the model by the gateway's slug, not
// the backend's own id: callers learn nothing of the backends' names, and SDKs see
// the model they asked for. The common case, a backend that echoes the slug, costs
// a byte search and no copy.
func slugged(data []byte, slug string) []byte {
	if i := bytes.Index(data, modelKey); i >= 0 {
		rest := data[i+len(modelKey):]
		if len(rest) > len(slug) && string(rest[:len(slug)]) == slug && rest[len(slug)] == '"' {
			return data
		}
	}
	m := gjson.GetBytes(data, "model")
	if !m.Exists() || m.Str == slug {
		return data
	}
	if out, err := sjson.SetBytes(data, "model", slug); err == nil {
		return out
	}
	return data
}

// withSlug is slugged for the request's model.
func (c *call) withSlug(data []byte) []byte { return slugged(data, c.res.Model) }
