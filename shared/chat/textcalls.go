package chat

import (
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"spass/shared/backend"
)

// Markers of the text forms of tool calls (see backend.ToolCallFormat).
const (
	hermesOpen    = "<tool_call>"
	hermesClose   = "</tool_call>"
	mistralMarker = "[TOOL_CALLS]"
	mistralArgs   = "[ARGS]"
	llamaTag      = "<|python_tag|>"
)

// textCall is a tool call read from text.
type textCall struct {
	ID, Name, Args string
}

// textItem is one piece of a converted text: content, or a call.
type textItem struct {
	text string
	call *textCall
}

// fed is what textCalls decided about the text so far. With verbatim set, the
// events held so far and the current one go out unchanged; otherwise items (if
// any) replace them all, and hold keeps the current event's text pending.
type fed struct {
	verbatim bool
	hold     bool
	items    []textItem
}

// maxPendingText bounds the text held while a call is undecided.
const maxPendingText = 1 << 20

type textState uint8

const (
	textStart   textState = iota // only whitespace so far: the text may open with a call
	textPlain                    // plain text; a marker may still come (hermes, mistral)
	textInCalls                  // inside calls, or between them
	textOff                      // nothing more to convert
)

// textCalls turns one choice's content into tool calls where it is written in the
// backend's text form. The content is fed piece by piece; text that may open a
// call (leading whitespace, a prefix of the marker, for llama-json a whole JSON
// object) is held until it is decided, everything else passes at once.
type textCalls struct {
	format backend.ToolCallFormat
	names  func() []string // offered tools: a llama-json object must name one
	state  textState
	buf    string // the pending text
	// dirty: part of what was held went out converted, so the pending text can
	// no longer be released as the events it came in.
	dirty bool
}

func newTextCalls(f backend.ToolCallFormat, names func() []string) *textCalls {
	return &textCalls{format: f, names: names}
}

type opening uint8

const (
	opensNo opening = iota
	opensMaybe
	opensYes
)

// marker is the format's opening marker (hermes, mistral).
func (m *textCalls) marker() string {
	switch m.format {
	case backend.ToolCallsHermes:
		return hermesOpen
	case backend.ToolCallsMistral:
		return mistralMarker
	}
	return ""
}

// opens says whether t, which has no leading whitespace, opens a call.
func (m *textCalls) opens(t string) opening {
	if m.format == backend.ToolCallsLlamaJSON {
		switch {
		case strings.HasPrefix(t, "{") || strings.HasPrefix(t, llamaTag):
			return opensYes
		case strings.HasPrefix(llamaTag, t):
			return opensMaybe
		}
		return opensNo
	}
	mk := m.marker()
	switch {
	case strings.HasPrefix(t, mk):
		return opensYes
	case strings.HasPrefix(mk, t):
		return opensMaybe
	}
	return opensNo
}

// feed adds one piece of content; final says the choice's text ends with it.
func (m *textCalls) feed(s string, final bool) fed {
	if m.state == textOff || m.state != textInCalls && m.buf == "" && s == "" && !final {
		return fed{verbatim: true}
	}
	m.buf += s
	if len(m.buf) > maxPendingText {
		m.state = textOff // a call this long is text that looked like one: let it go
	}
	var items []textItem
	for {
		switch m.state {
		case textOff:
			return m.release(items)
		case textStart:
			t := strings.TrimLeft(m.buf, " \t\r\n")
			switch m.opens(t) {
			case opensYes:
				m.buf, m.state = t, textInCalls
				continue
			case opensMaybe:
				if !final {
					return m.pending(items)
				}
			}
			m.state = textPlain
			if m.format == backend.ToolCallsLlamaJSON {
				m.state = textOff // llama's JSON counts only as the whole content
			}
		case textPlain:
			mk := m.marker()
			i := strings.Index(m.buf, mk)
			if i < 0 {
				if !final && partialSuffix(m.buf, mk) {
					return m.pending(items)
				}
				return m.release(items)
			}
			if i > 0 {
				items = append(items, textItem{text: m.buf[:i]})
				m.dirty = true
			}
			m.buf, m.state = m.buf[i:], textInCalls
		case textInCalls:
			cut := " \t\r\n"
			if m.format == backend.ToolCallsLlamaJSON {
				cut += ";" // llama separates calls with ";"
			}
			t := strings.TrimLeft(m.buf, cut)
			if t == "" {
				if final {
					m.buf = ""
					return m.done(items)
				}
				return m.pending(items)
			}
			switch m.opens(t) {
			case opensNo:
				m.state = textPlain // text after the calls
				if m.format == backend.ToolCallsLlamaJSON {
					m.state = textOff
				}
				continue
			case opensMaybe:
				if !final {
					return m.pending(items)
				}
				m.state = textOff
				continue
			}
			calls, rest, ok, more := m.take(t, final)
			switch {
			case more:
				return m.pending(items)
			case !ok:
				m.state = textOff // not a call after all: the text stays text
				continue
			}
			for _, c := range calls {
				items = append(items, textItem{call: c})
			}
			m.buf, m.dirty = rest, true
		}
	}
}

// pending holds the text so far; items decided before it go out.
func (m *textCalls) pending(items []textItem) fed {
	if len(items) > 0 {
		m.dirty = true
	}
	return fed{hold: true, items: items}
}

// release lets the pending text go as text: verbatim when nothing of it was
// converted, else as an item of its own.
func (m *textCalls) release(items []textItem) fed {
	buf := m.buf
	m.buf = ""
	if !m.dirty && len(items) == 0 {
		return fed{verbatim: true}
	}
	m.dirty = false
	if buf != "" {
		items = append(items, textItem{text: buf})
	}
	return fed{items: items}
}

// done ends a choice whose calls were all taken.
func (m *textCalls) done(items []textItem) fed {
	m.dirty = false
	return fed{items: items}
}

// take reads the calls at the start of t, which opens a call. more: t ends before
// the calls do; !ok: the text is not a call.
func (m *textCalls) take(t string, final bool) (calls []*textCall, rest string, ok, more bool) {
	switch m.format {
	case backend.ToolCallsHermes:
		body := t[len(hermesOpen):]
		end := strings.Index(body, hermesClose)
		if end < 0 {
			if !final {
				return nil, "", false, true
			}
			end, rest = len(body), "" // models often omit the last closing tag
		} else {
			rest = body[end+len(hermesClose):]
		}
		c, ok := parseCall(body[:end], nil)
		return []*textCall{c}, rest, ok, false
	case backend.ToolCallsMistral:
		return takeMistral(strings.TrimLeft(t[len(mistralMarker):], " \t\r\n"), final)
	default: // llama-json
		t = strings.TrimLeft(strings.TrimPrefix(t, llamaTag), " \t\r\n")
		if t == "" {
			return nil, "", false, !final
		}
		end, closed := jsonEnd(t)
		if !closed {
			return nil, "", false, !final
		}
		c, ok := parseCall(t[:end], m.names())
		return []*textCall{c}, t[end:], ok, false
	}
}

// takeMistral reads [{"name":…,"arguments":…},…] or name[ARGS]{…}.
func takeMistral(t string, final bool) (calls []*textCall, rest string, ok, more bool) {
	if t == "" {
		return nil, "", false, !final
	}
	if t[0] == '[' {
		end, closed := jsonEnd(t)
		if !closed {
			return nil, "", false, !final
		}
		arr := gjson.Parse(t[:end])
		ok = gjson.Valid(t[:end])
		arr.ForEach(func(_, v gjson.Result) bool {
			c, good := parseCall(v.Raw, nil)
			calls, ok = append(calls, c), ok && good
			return ok
		})
		return calls, t[end:], ok && len(calls) > 0, false
	}
	i := strings.Index(t, mistralArgs)
	if i < 0 { // a name so far, perhaps with the start of [ARGS]
		j := strings.IndexByte(t, '[')
		partial := j < 0 && !strings.ContainsAny(t, "{\n") || j >= 0 && strings.HasPrefix(mistralArgs, t[j:])
		return nil, "", false, !final && len(t) < 256 && partial
	}
	name := strings.TrimSpace(t[:i])
	obj := strings.TrimLeft(t[i+len(mistralArgs):], " \t\r\n")
	if obj == "" {
		return nil, "", false, !final
	}
	end, closed := jsonEnd(obj)
	if !closed {
		return nil, "", false, !final
	}
	if name == "" || obj[0] != '{' || !gjson.Valid(obj[:end]) {
		return nil, "", false, false
	}
	return []*textCall{{Name: name, Args: obj[:end]}}, obj[end:], true, false
}

// parseCall reads one call object: {"name":…,"arguments"|"parameters":{…}|"…"}.
// With names, the call must name one of them (llama-json has no marker, so a
// JSON answer is a call only when it calls an offered tool).
func parseCall(s string, names []string) (*textCall, bool) {
	s = strings.TrimSpace(s)
	if !gjson.Valid(s) {
		return nil, false
	}
	v := gjson.Parse(s)
	if !v.IsObject() {
		return nil, false
	}
	f := v.Get("name")
	if f.Type != gjson.String || f.Str == "" || names != nil && !slices.Contains(names, f.Str) {
		return nil, false
	}
	c := &textCall{Name: f.Str, ID: v.Get("id").Str, Args: "{}"}
	a := v.Get("arguments")
	if !a.Exists() {
		a = v.Get("parameters")
	}
	switch {
	case a.Type == gjson.String:
		c.Args = a.Str
	case a.IsObject() || a.IsArray():
		c.Args = a.Raw
	}
	return c, true
}

// partialSuffix reports whether s ends with a proper prefix of marker.
func partialSuffix(s, marker string) bool {
	for k := min(len(marker)-1, len(s)); k > 0; k-- {
		if strings.HasSuffix(s, marker[:k]) {
			return true
		}
	}
	return false
}

// jsonEnd returns the length of the JSON object or array at the start of s, and
// whether it is closed within s; strings are skipped, so brackets in them do not
// count.
func jsonEnd(s string) (int, bool) {
	depth := 0
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}
