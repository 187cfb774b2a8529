package chat

import (
	"bytes"
	"slices"

	"github.com/tidwall/gjson"

	"spass/shared/backend"
	"spass/shared/router"
)

var callsKey = []byte(`"tool_calls"`)

// eventInfo is what vet learned about one upstream event.
type eventInfo struct {
	// invalid: the event is not one JSON value; it must not reach the client,
	// whose SDK would throw on it.
	invalid bool
	// usage, err and calls say the event may hold those keys (the handlers
	// confirm); all false for a plain event.
	usage, err, calls bool
	// plain: the event is a content delta shaped like the stream's template, so
	// it holds none of the keys the relay acts on and needs no more checks.
	plain bool
	// content is the raw JSON string of choices.0.delta.content of a plain
	// event.
	content []byte
}

// vet checks a stream's events before they are relayed: each must be valid JSON,
// and the relay must learn which keys it acts on (usage, error, tool_calls). Most
// events of a stream are content deltas that differ only in their content string,
// so vet learns one as a template (the bytes before and after the content) and
// checks a matching event by comparing those bytes and scanning its content
// string: valid JSON by construction, with the template's keys. Other events —
// the role and finish chunks, tool calls, usage — are validated in full.
type vet struct {
	prefix, suffix []byte // the template, both in tpl
	tpl            []byte
	learned        int
	// slugged: the template names the model by the gateway's slug already, so a
	// matching event needs no rewrite either.
	slugged bool
	slug    string
	// tools: the request offered tools, so tool_calls keys are looked for and
	// fx normalises them; fx is nil otherwise.
	tools bool
	fx    *callFix
}

// newVet returns the checks of one stream from t; names lists the tools the
// request offered, nil when it offered none.
func (c *call) newVet(t router.Target, names func() []string) *vet {
	v := &vet{slug: c.res.Model}
	if names != nil {
		v.tools, v.fx = true, newCallFix(formatOf(t), names)
	}
	return v
}

// formatOf is the text form of tool calls the target's backend writes.
func formatOf(t router.Target) backend.ToolCallFormat {
	if t.Backend == nil || t.Backend.ToolCalls == "" {
		return backend.ToolCallsNone
	}
	return t.Backend.ToolCalls
}

// offered returns the names of the tools the request offered, read when first
// needed; nil when it offered none (or is not a chat request).
func (c *call) offered() func() []string {
	if c.req == nil || !slices.Contains(c.req.Needs, backend.Tools) {
		return nil
	}
	var names []string
	return func() []string {
		if names == nil {
			names = toolNames(gjson.GetBytes(c.req.Raw, "tools"))
		}
		return names
	}
}

// maxLearn bounds how often one stream's template is relearned: a backend whose
// content deltas differ elsewhere too (OpenAI's obfuscation padding) is then
// validated in full, at the cost of the relay before templates.
const maxLearn = 8

// check returns what the relay needs to know about d.
func (v *vet) check(d []byte) eventInfo {
	if n, m := len(v.prefix), len(v.suffix); n > 0 && len(d) >= n+m+2 && bytes.HasPrefix(d, v.prefix) && bytes.HasSuffix(d, v.suffix) {
		if s := d[n : len(d)-m]; jsonString(s) {
			return eventInfo{plain: true, content: s}
		}
	}
	if !gjson.ValidBytes(d) {
		return eventInfo{invalid: true}
	}
	in := eventInfo{usage: bytes.Contains(d, usageKey), err: bytes.Contains(d, errorKey)}
	in.calls = v.tools && bytes.Contains(d, callsKey)
	if in.usage || in.err || in.calls {
		return in
	}
	if v.learned < maxLearn && bytes.Contains(d, contentKey) {
		v.learn(d)
	}
	return in
}

var (
	contentKey = []byte(`"content":`)
	finishKey  = []byte(`"finish_reason":`)
)

// learn makes d, a valid event without the keys the relay acts on, the template
// when it is a content delta with text.
func (v *vet) learn(d []byte) {
	c := gjson.GetBytes(d, "choices.0.delta.content")
	start, end := c.Index, c.Index+len(c.Raw)
	if c.Type != gjson.String || c.Str == "" || start <= 0 || end > len(d) || d[start] != '"' {
		return
	}
	if f := bytes.Index(d[end:], finishKey); f >= 0 && bytes.HasPrefix(bytes.TrimLeft(d[end+f+len(finishKey):], " "), []byte{'"'}) {
		return // a finish chunk with text: not the shape of the stream's deltas
	}
	v.learned++
	v.tpl = append(v.tpl[:0], d...)
	v.prefix, v.suffix = v.tpl[:start], v.tpl[end:]
	out := slugged(d, v.slug)
	v.slugged = len(out) == len(d) && &out[0] == &d[0]
}

// jsonString reports whether s is exactly one JSON string: quoted, with valid
// escapes and no raw control characters or unescaped quotes inside.
func jsonString(s []byte) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i, n := 1, len(s)-1; i < n; i++ {
		switch c := s[i]; {
		case c == '"' || c < 0x20:
			return false
		case c == '\\':
			if i+1 >= n {
				return false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= n || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					return false
				}
				i += 5
			default:
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// unquote returns the text of a raw JSON string (see jsonString).
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	return gjson.ParseBytes(raw).Str
}
