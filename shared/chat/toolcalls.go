package chat

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/backend"
)

// callFix normalises the tool calls of one streamed answer, from one backend, to
// the shape every OpenAI SDK reads: each tool-call delta has an integer index,
// stable per call (parallel calls without one are kept apart), the first delta of
// a call has an id and type "function", arguments are a string (an object is
// encoded), a name is not repeated (openai-go appends names), and finish_reason
// is "tool_calls" when the answer called tools. Calls the model wrote as text in
// the backend's tool_call_format become such deltas too. An event that needs none
// of this is returned as it came, byte for byte.
type callFix struct {
	// format is the text form converted: ToolCallsNone when the request
	// offered no tools.
	format  backend.ToolCallFormat
	names   func() []string // the offered tools' names, read when first needed
	choices []*choiceFix    // by choice index
	seen    bool            // a tool call was seen: finish reasons are checked
	marker  []byte          // the format's opening marker (hermes, mistral)
}

// choiceFix is the state of one choice of the answer.
type choiceFix struct {
	calls    []fixCall
	byUp     map[int64]int // the backend's index -> ours
	last     int           // the call an index-less fragment continues, -1 for none
	text     *textCalls    // nil when no text form is converted
	held     [][]byte      // events held while text is undecided
	base     []byte        // the choice's last event: the frame of events built later
	roleSent bool
}

type fixCall struct{ id, name string }

func newCallFix(format backend.ToolCallFormat, names func() []string) *callFix {
	f := &callFix{format: format, names: names}
	f.marker = []byte((&textCalls{format: format}).marker())
	return f
}

// state returns the choice's state, made on first use.
func (f *callFix) state(i int64) *choiceFix {
	if i < 0 || i > 127 {
		i = 0
	}
	for int64(len(f.choices)) <= i {
		f.choices = append(f.choices, nil)
	}
	cf := f.choices[i]
	if cf == nil {
		cf = &choiceFix{byUp: map[int64]int{}, last: -1}
		if f.format != backend.ToolCallsNone && f.format != "" {
			cf.text = newTextCalls(f.format, f.names)
		}
		f.choices[i] = cf
	}
	return cf
}

// wants reports whether an event must go through fix: one with tool calls, and,
// while a text form is converted, one whose content may open or hold a call.
// A plain content delta of an answer without calls costs nothing more.
func (f *callFix) wants(in eventInfo) bool {
	if !in.plain {
		return in.calls || f.seen || f.format != backend.ToolCallsNone
	}
	if f.format == backend.ToolCallsNone {
		return false
	}
	if len(f.choices) != 1 {
		return true
	}
	m := f.choices[0].text
	switch {
	case m.state == textOff:
		return false
	case m.state != textPlain || m.buf != "":
		return true
	}
	raw, mk := in.content[:len(in.content)-1], f.marker
	if len(mk) == 0 {
		return false
	}
	if bytes.Contains(raw, mk) || bytes.Contains(raw, escapedLT) {
		return true
	}
	for k := min(len(mk)-1, len(raw)); k > 0; k-- { // a marker may be cut between deltas
		if bytes.HasSuffix(raw, mk[:k]) {
			return true
		}
	}
	return false
}

var escapedLT = []byte(`\u003c`) // "<" as Go and some servers encode it

// fix returns the events to send for one upstream event: itself, changed ones,
// more than one, or none while text is held.
func (f *callFix) fix(ev []byte) [][]byte {
	arr := gjson.GetBytes(ev, "choices").Array()
	switch len(arr) {
	case 0:
		return [][]byte{ev}
	case 1:
		out, _ := f.choice(ev, arr[0])
		return out
	}
	var out [][]byte // several choices in one event: each in one of its own
	same := true
	for i, ch := range arr {
		one, _ := sjson.SetRawBytes(ev, "choices", []byte("["+ch.Raw+"]"))
		if i < len(arr)-1 {
			one, _ = sjson.DeleteBytes(one, "usage")
		}
		evs, s := f.choice(one, gjson.GetBytes(one, "choices.0"))
		out, same = append(out, evs...), same && s
	}
	if same {
		return [][]byte{ev}
	}
	return out
}

// choice handles an event of one choice; same reports that it goes out unchanged.
func (f *callFix) choice(ev []byte, ch gjson.Result) (out [][]byte, same bool) {
	idx := ch.Get("index").Int()
	cf := f.state(idx)
	cf.base = append(cf.base[:0], ev...)
	delta := ch.Get("delta")
	content, calls, finish := delta.Get("content"), delta.Get("tool_calls"), ch.Get("finish_reason")
	final := finish.Type == gjson.String
	replaced := false // the event's content went converted, or stays pending
	if m := cf.text; m != nil && (content.Type == gjson.String || final || len(cf.held) > 0) {
		r := m.feed(content.Str, final)
		switch {
		case r.verbatim:
			out, cf.held = cf.held, nil
		case r.hold && len(r.items) == 0 && !calls.IsArray():
			cf.held = append(cf.held, slices.Clone(ev))
			return nil, false
		default:
			if r.hold {
				m.dirty = true // the rest of the event goes on; its text stays pending
			}
			cf.held = nil
			out, replaced = f.build(cf, idx, r.items, false), true
		}
	}
	var fixed []byte
	changed := false
	if calls.IsArray() {
		f.seen = true
		fixed, changed = cf.normalise(calls)
	}
	reason := finish.Str
	if final && reason == "stop" && len(cf.calls) > 0 {
		reason = "tool_calls"
	}
	if !replaced {
		if !changed && reason == finish.Str {
			cf.roleSent = true
			return append(out, ev), len(out) == 0
		}
		e := ev
		if changed {
			e, _ = sjson.SetRawBytes(e, "choices.0.delta.tool_calls", fixed)
		}
		if reason != finish.Str {
			e, _ = sjson.SetBytes(e, "choices.0.finish_reason", reason)
		}
		cf.roleSent = true
		return append(out, e), false
	}
	if calls.IsArray() || final || gjson.GetBytes(ev, "usage").Exists() { // what else the event carried
		d := chunkDelta{}
		if calls.IsArray() {
			d.ToolCalls = json.RawMessage(calls.Raw)
			if changed {
				d.ToolCalls = fixed
			}
		}
		out = append(out, cf.event(ev, idx, d, reason, true))
	}
	return out, false
}

// flush ends the text still held when the stream ends without a finish chunk.
func (f *callFix) flush() [][]byte {
	var out [][]byte
	for i, cf := range f.choices {
		if cf == nil || cf.text == nil || len(cf.held) == 0 && cf.text.buf == "" {
			continue
		}
		r := cf.text.feed("", true)
		if r.verbatim {
			out = append(out, cf.held...)
		} else {
			out = append(out, f.build(cf, int64(i), r.items, false)...)
		}
		cf.held = nil
	}
	return out
}

// build turns text items into events framed like the choice's last event.
func (f *callFix) build(cf *choiceFix, idx int64, items []textItem, keepUsage bool) [][]byte {
	var out [][]byte
	for _, it := range items {
		var d chunkDelta
		if it.call == nil {
			d.Content = &it.text
		} else {
			f.seen = true
			c := it.call
			k := cf.add(cmp.Or(c.ID, newCallID()), c.Name)
			args := c.Args
			d.ToolCalls, _ = json.Marshal([]deltaCall{{Index: k, ID: cf.calls[k].id, Type: "function",
				Function: &deltaFunction{Name: c.Name, Arguments: &args}}})
		}
		out = append(out, cf.event(cf.base, idx, d, "", keepUsage))
	}
	return out
}

// event builds one event like base (same id, model, created) with one choice.
func (cf *choiceFix) event(base []byte, idx int64, d chunkDelta, finish string, keepUsage bool) []byte {
	if !cf.roleSent {
		d.Role, cf.roleSent = "assistant", true
	}
	db, _ := json.Marshal(d)
	fin := []byte("null")
	if finish != "" {
		fin, _ = json.Marshal(finish)
	}
	ch := make([]byte, 0, len(db)+64)
	ch = append(ch, `[{"index":`...)
	ch = strconv.AppendInt(ch, idx, 10)
	ch = append(append(ch, `,"delta":`...), db...)
	ch = append(append(append(ch, `,"finish_reason":`...), fin...), "}]"...)
	out, err := sjson.SetRawBytes(base, "choices", ch)
	if err != nil {
		return base
	}
	if !keepUsage && gjson.GetBytes(out, "usage").Exists() {
		out, _ = sjson.DeleteBytes(out, "usage")
	}
	return out
}

// chunkDelta is a delta the gateway writes.
type chunkDelta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	ToolCalls json.RawMessage `json:"tool_calls,omitempty"`
}

// deltaCall is one tool-call delta as OpenAI streams it.
type deltaCall struct {
	Index    int            `json:"index"`
	ID       string         `json:"id,omitempty"`
	Type     string         `json:"type,omitempty"`
	Function *deltaFunction `json:"function,omitempty"`
}

type deltaFunction struct {
	Name      string  `json:"name,omitempty"`
	Arguments *string `json:"arguments,omitempty"`
}

// normalise returns the tool_calls array in OpenAI's shape, and whether it had to
// change.
func (cf *choiceFix) normalise(arr gjson.Result) ([]byte, bool) {
	var entries []deltaCall
	changed := false
	arr.ForEach(func(_, d gjson.Result) bool {
		idx, id := d.Get("index"), d.Get("id").Str
		fn := d.Get("function")
		name, args := fn.Get("name").Str, fn.Get("arguments")
		k, isNew := cf.place(idx, id, name)
		c := &cf.calls[k]
		ok := idx.Type == gjson.Number && idx.Raw == strconv.Itoa(k)
		e := deltaCall{Index: k, ID: id}
		if isNew {
			if id == "" {
				c.id, ok = newCallID(), false
			}
			e.ID, e.Type = c.id, "function"
			ok = ok && d.Get("type").Str == "function"
		}
		var fd deltaFunction
		switch {
		case name == "":
		case !isNew && name == c.name: // a repeat: openai-go would append it
			ok = false
		default:
			fd.Name, c.name = name, name
		}
		switch {
		case args.Type == gjson.String:
			fd.Arguments = &args.Str
		case args.Exists() && args.Type != gjson.Null: // an object: encoded as text
			raw := args.Raw
			fd.Arguments, ok = &raw, false
		case isNew:
			empty := ""
			fd.Arguments = &empty
		}
		if isNew || fd.Name != "" || fd.Arguments != nil {
			e.Function = &fd
		}
		entries = append(entries, e)
		changed = changed || !ok
		return true
	})
	if !changed {
		return nil, false
	}
	b, _ := json.Marshal(entries)
	return b, true
}

// place finds the call a delta belongs to: by the backend's index (a new id at a
// known index is a new call), else by id, else the last call unless the delta
// names a function while that call has a name already.
func (cf *choiceFix) place(idx gjson.Result, id, name string) (int, bool) {
	if idx.Type == gjson.Number {
		up := idx.Int()
		if k, ok := cf.byUp[up]; ok && (id == "" || cf.calls[k].id == "" || cf.calls[k].id == id) {
			cf.last = k
			return k, false
		}
		k := cf.add(id, "")
		cf.byUp[up] = k
		return k, true
	}
	switch {
	case id != "":
		for k, c := range cf.calls {
			if c.id == id {
				cf.last = k
				return k, false
			}
		}
	case cf.last >= 0 && (name == "" || cf.calls[cf.last].name == ""):
		return cf.last, false
	}
	return cf.add(id, ""), true
}

// add starts a call and returns its index.
func (cf *choiceFix) add(id, name string) int {
	cf.calls = append(cf.calls, fixCall{id: id, name: name})
	cf.last = len(cf.calls) - 1
	return cf.last
}

// newCallID makes an id for a call whose backend gave none.
func newCallID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := []byte("call_000000000000000000000000")
	for i := 5; i < len(b); i++ {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
