package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"spass/shared/backend"
)

// FuzzVetAgreesWithStrictParser checks that no event a strict JSON parser (an
// SDK's) rejects passes vet, with or without a template learned, and that what
// vet calls plain holds none of the keys the relay acts on.
func FuzzVetAgreesWithStrictParser(f *testing.F) {
	for _, s := range []string{
		string(simEvent(" world")), string(simEvent("Hello"))[:90], string(simEventRaw(`"a","b":"c"`)),
		string(simEventRaw(`"a\tb"`)), string(simEventRaw(`"\u00e9\"\\"`)), string(simEventRaw(`"\ud800"`)),
		`{"choices":[],"usage":{"prompt_tokens":1}}`, `{"error":{"message":"x"}}`, `[DONE]`, `{} {}`, " {\"a\":1}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := []byte(s)
		fresh := &vet{slug: "sim-chat", tools: true}
		trained := &vet{slug: "sim-chat", tools: true}
		trained.check(simEvent("Hello"))
		for _, v := range []*vet{fresh, trained} {
			in := v.check(d)
			if in.invalid == json.Valid(d) {
				t.Fatalf("%q: vet says invalid=%v", s, in.invalid)
			}
			if in.plain {
				r := gjson.ParseBytes(d)
				if r.Get("usage").Exists() || r.Get("error").Exists() || strings.Contains(s, `"tool_calls"`) ||
					r.Get("choices.0.delta.content").Raw != string(in.content) {
					t.Fatalf("%q: plain, but %+v", s, in)
				}
			}
		}
	})
}

// FuzzTextStaysText checks that content split into deltas either comes out as
// the same text, or as tool calls (with what is left as text), and that every
// event the client gets is valid JSON.
func FuzzTextStaysText(f *testing.F) {
	for _, s := range []string{"Hello there", "<tool_call>{\"name\":\"get_time\"}</tool_call>", "a <tool_call>{", `{"name": "get_time", "parameters": {}}`,
		"[TOOL_CALLS][{\"name\":\"x\"}]", "[TOOL_CALLS]get_time[ARGS]{}", "<|python_tag|>{", "  <tool_c", "{\"a\":[1,{\"b\":\"}\"}]}"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, n uint8) {
		if !utf8.ValidString(s) {
			return // the events would carry U+FFFD instead
		}
		size := int(n%16) + 1
		var events [][]byte
		for rest := s; rest != ""; {
			k := min(size, len(rest))
			for k < len(rest) && !utf8.RuneStart(rest[k]) {
				k++ // a delta carries whole characters
			}
			events = append(events, text(rest[:k]))
			rest = rest[k:]
		}
		events = append(events, ev(`{}`, "stop"))
		for _, format := range backend.ToolCallFormats() {
			out, _ := relayed(format, events...)
			var content strings.Builder
			calls := 0
			for _, e := range out {
				if !json.Valid(e) {
					t.Fatalf("%s: invalid event %q", format, e)
				}
				content.WriteString(gjson.GetBytes(e, "choices.0.delta.content").Str)
				calls += len(gjson.GetBytes(e, "choices.0.delta.tool_calls").Array())
			}
			if calls == 0 && content.String() != s {
				t.Fatalf("%s: %q came out as %q", format, s, content.String())
			}
			if calls > 0 && format == backend.ToolCallsNone {
				t.Fatalf("calls read from %q with no format", s)
			}
		}
	})
}
