package chat

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// upstreamBody returns the client's body as the backend must read it: the
// upstream model id when the backend names the model differently, an explicit
// "stream" (a backend must never guess whether to stream: a stream it was not
// asked for would read as the backend's failure), and usage in streams. The
// changes are spliced into one copy of the body; a body that needs none is
// forwarded as it came.
func upstreamBody(req *Request, up string) ([]byte, error) {
	var buf [3]string
	keys := buf[:0]
	if up != req.Model {
		keys = append(keys, "model")
	}
	if !req.streamSet || req.streamNull {
		keys = append(keys, "stream")
	}
	if req.Stream && !req.IncludeUsage {
		keys = append(keys, "stream_options")
	}
	if len(keys) == 0 {
		return req.Raw, nil
	}
	return splice(req.Raw, keys, 64+len(up), func(key string, old gjson.Result, dst []byte) ([]byte, bool) {
		switch key {
		case "model":
			return appendJSONString(dst, up), true
		case "stream":
			return strconv.AppendBool(dst, req.Stream), true
		}
		return withIncludeUsage(dst, old), true
	}), nil
}

// withIncludeUsage appends stream_options old with include_usage true.
func withIncludeUsage(dst []byte, old gjson.Result) []byte {
	if old.IsObject() {
		if b, err := sjson.SetBytes([]byte(old.Raw), "include_usage", true); err == nil {
			return append(dst, b...)
		}
	}
	return append(dst, `{"include_usage":true}`...)
}

// upstreamModel returns raw with the model id the backend knows, when it differs.
func upstreamModel(raw []byte, slug, up string) ([]byte, error) {
	if up == slug {
		return raw, nil
	}
	return sjson.SetBytes(raw, "model", up)
}

// view returns b as a string without copying it, for gjson, whose ParseBytes
// and GetManyBytes copy the whole document first. b must not change while a
// result read from the view is in use.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// splice returns the JSON object obj with the top-level members named by keys
// rewritten, in one copy: edit appends a member's new value to dst (old is the
// current value, !old.Exists() when absent) and reports whether the member stays.
// A rewritten value keeps its place, a removed member goes with one comma, a new
// member is appended. The keys must not occur twice in obj (ParseChat refuses
// such bodies); grow is the room to reserve beyond len(obj).
func splice(obj []byte, keys []string, grow int, edit func(key string, old gjson.Result, dst []byte) ([]byte, bool)) []byte {
	type span struct {
		key        int // index in keys
		start, end int // the member, from its key's quote to its value's end
		old        gjson.Result
	}
	var buf [8]span
	spans := buf[:0]
	found := make([]bool, len(keys))
	gjson.Parse(view(obj)).ForEach(func(k, v gjson.Result) bool {
		if i := slices.Index(keys, k.Str); i >= 0 && !found[i] {
			found[i] = true
			spans = append(spans, span{key: i, start: k.Index, end: v.Index + len(v.Raw), old: v})
		}
		return true
	})
	out := make([]byte, 0, len(obj)+grow)
	cur := 0
	for _, s := range spans { // in document order
		vstart := s.end - len(s.old.Raw)
		out = append(out, obj[cur:vstart]...)
		mark := len(out)
		var keep bool
		if out, keep = edit(keys[s.key], s.old, out); keep {
			cur = s.end
			continue
		}
		// Removed: back to the key, with the comma before it, else the one after.
		out = out[:mark-(vstart-s.start)]
		cur = s.end
		if i := lastNonSpace(out); i >= 0 && out[i] == ',' {
			out = out[:i]
		} else if j := skipSpace(obj, cur); j < len(obj) && obj[j] == ',' {
			cur = j + 1
		}
	}
	end := lastNonSpace(obj) // the closing brace
	if end < cur {
		end = cur
	}
	out = append(out, obj[cur:end]...)
	for i, k := range keys {
		if found[i] {
			continue
		}
		mark := len(out)
		if j := lastNonSpace(out); j >= 0 && out[j] != '{' {
			out = append(out, ',')
		}
		out = append(appendJSONString(out, k), ':')
		var keep bool
		if out, keep = edit(k, gjson.Result{}, out); !keep {
			out = out[:mark]
		}
	}
	return append(out, obj[end:]...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func lastNonSpace(b []byte) int {
	i := len(b) - 1
	for i >= 0 && isSpace(b[i]) {
		i--
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

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
