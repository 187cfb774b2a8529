package redact

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Redactor redacts the bodies of one request and restores its answers. It keeps
// the request's placeholders: the same value gets the same placeholder in every
// attempt and every tool round, so a model that sees [EMAIL_1] twice knows it is
// one address. It is not safe for concurrent use; a request uses it in turn.
type Redactor struct {
	rules    *Rules
	byValue  map[string]string // value -> placeholder
	byHolder map[string]string // placeholder -> value
	counts   map[Kind]int
}

// New returns a redactor for one request.
func New(r *Rules) *Redactor {
	return &Redactor{rules: r, byValue: map[string]string{}, byHolder: map[string]string{}, counts: map[Kind]int{}}
}

// Items returns how many distinct values the request's bodies had redacted.
func (r *Redactor) Items() int { return len(r.byValue) }

// Counts returns the distinct values redacted, by kind.
func (r *Redactor) Counts() map[Kind]int { return r.counts }

// Empty reports whether nothing was redacted, so nothing needs restoring.
func (r *Redactor) Empty() bool { return r == nil || len(r.byHolder) == 0 }

// Text returns s with every value found replaced by its placeholder.
func (r *Redactor) Text(s string) string {
	spans := r.rules.find(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, sp := range spans {
		b.WriteString(s[at:sp.start])
		b.WriteString(r.holder(sp.kind, s[sp.start:sp.end]))
		at = sp.end
	}
	b.WriteString(s[at:])
	return b.String()
}

// holder returns value's placeholder, numbering a new value within its kind.
func (r *Redactor) holder(k Kind, value string) string {
	if h, ok := r.byValue[value]; ok {
		return h
	}
	r.counts[k]++
	h := "[" + string(k) + "_" + strconv.Itoa(r.counts[k]) + "]"
	r.byValue[value], r.byHolder[h] = h, value
	return h
}

// Body redacts a chat completions body: the text of every message (string
// content and text parts; images are left alone), the arguments of the tool
// calls in the history, and the top-level "user". Everything else (model,
// tools, parameters) is kept byte for byte. An error means the body could not
// be rewritten; the caller must then not send it.
func (r *Redactor) Body(body []byte) ([]byte, error) {
	e := edits{r: r}
	e.add("user", gjson.GetBytes(body, "user"))
	gjson.GetBytes(body, "messages").ForEach(func(i, m gjson.Result) bool {
		p := "messages." + i.String()
		c := m.Get("content")
		if c.IsArray() {
			c.ForEach(func(j, part gjson.Result) bool {
				if part.Get("type").Str == "text" {
					e.add(p+".content."+j.String()+".text", part.Get("text"))
				}
				return true
			})
		} else {
			e.add(p+".content", c)
		}
		m.Get("tool_calls").ForEach(func(j, tc gjson.Result) bool {
			e.add(p+".tool_calls."+j.String()+".function.arguments", tc.Get("function.arguments"))
			return true
		})
		return true
	})
	return e.apply(body)
}

// edits are the strings of a body to replace with their redacted text.
type edits struct {
	r    *Redactor
	list []edit
}

type edit struct{ path, value string }

// add redacts the string v at path, if it is one and holds anything to redact.
func (e *edits) add(path string, v gjson.Result) {
	if v.Type != gjson.String {
		return
	}
	if red := e.r.Text(v.Str); red != v.Str {
		e.list = append(e.list, edit{path, red})
	}
}

// apply returns body with the edits made; everything else is kept byte for byte.
func (e *edits) apply(body []byte) ([]byte, error) {
	var err error
	for _, ed := range e.list {
		if body, err = sjson.SetBytes(body, ed.path, ed.value); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// Restore returns a JSON document (an answer, a stream event, tool arguments)
// with every placeholder of this request replaced by its value, escaped for
// the JSON string it stands in. A document without one is returned as it is.
func (r *Redactor) Restore(doc []byte) []byte {
	if r.Empty() || !bytes.Contains(doc, []byte("[")) {
		return doc
	}
	return []byte(r.replace(string(doc), true))
}

// RestoreText is Restore for plain (decoded) text.
func (r *Redactor) RestoreText(s string) string { return r.replace(s, false) }

// replace substitutes every known placeholder in s; escaped writes values as
// JSON string content.
func (r *Redactor) replace(s string, escaped bool) string {
	if r.Empty() || !strings.Contains(s, "[") {
		return s
	}
	var b strings.Builder
	at := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '[' {
			continue
		}
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			break
		}
		v, ok := r.byHolder[s[i:i+end+1]]
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[at:i])
		if escaped {
			q, _ := json.Marshal(v)
			b.Write(q[1 : len(q)-1])
		} else {
			b.WriteString(v)
		}
		at = i + end + 1
		i = at - 1
	}
	if at == 0 {
		return s
	}
	b.WriteString(s[at:])
	return b.String()
}

// pending returns the length of the end of s that may be the start of a
// placeholder still arriving ("[EMA"), which a stream holds back.
func (r *Redactor) pending(s string) int {
	i := strings.LastIndexByte(s, '[')
	if i < 0 || r.Empty() {
		return 0
	}
	tail := s[i:]
	if strings.IndexByte(tail, ']') >= 0 {
		return 0
	}
	for h := range r.byHolder {
		if len(tail) < len(h) && strings.HasPrefix(h, tail) {
			return len(tail)
		}
	}
	return 0
}
