package chat

import (
	"bytes"
	"encoding/json"
	"testing"

	"spass/shared/backend"
)

// simEvent is a content delta as the simulator (and vLLM) frame it.
func simEvent(content string) []byte {
	c, _ := json.Marshal(content)
	return simEventRaw(string(c))
}

// simEventRaw is simEvent with raw in the content's place.
func simEventRaw(raw string) []byte {
	return []byte(`{"id":"chatcmpl-sim00000001","object":"chat.completion.chunk","created":1718000000,"model":"sim-chat","system_fingerprint":"fp_simulator","choices":[{"index":0,"delta":{"content":` + raw + `},"finish_reason":null,"logprobs":null}]}`)
}

func TestVet(t *testing.T) {
	v := &vet{slug: "sim-chat"}
	tests := []struct {
		name string
		ev   string
		want eventInfo
	}{
		{"first content event: validated, learned", string(simEvent("Hello")), eventInfo{}},
		{"like the template", string(simEvent(" world \"quoted\" \\u00e9 \u2028")), eventInfo{plain: true}},
		{"a string that is not one", string(simEventRaw(`"x","y":"z"`)), eventInfo{}},
		{"half-written", string(simEvent("Hello"))[:90], eventInfo{invalid: true}},
		{"half-written, ends in a brace", `{"choices":[{"delta":{"content":"x"}`, eventInfo{invalid: true}},
		{"two events joined", string(simEvent("a")) + "\n" + string(simEvent("b")), eventInfo{invalid: true}},
		{"raw control character", string(simEventRaw("\"a\tb\"")), eventInfo{invalid: true}},
		{"a number for content", string(simEventRaw("12")), eventInfo{}},
		{"usage", `{"id":"x","choices":[],"usage":{"prompt_tokens":1}}`, eventInfo{usage: true}},
		{"error", `{"error":{"message":"boom"}}`, eventInfo{err: true}},
		{"tool calls (no tools offered)", `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}`, eventInfo{}},
	}
	for _, tt := range tests {
		got := v.check([]byte(tt.ev))
		if got.invalid != tt.want.invalid || got.plain != tt.want.plain || got.usage != tt.want.usage || got.err != tt.want.err || got.calls != tt.want.calls {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if !v.slugged || v.learned != 2 { // the first event, and the one with a field more
		t.Fatalf("template: slugged %v, learned %d", v.slugged, v.learned)
	}
	v.tools = true
	if in := v.check([]byte(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}`)); !in.calls {
		t.Fatal("tool calls not seen with tools offered")
	}
}

func TestJSONString(t *testing.T) {
	for s, want := range map[string]bool{
		`""`: true, `"a\"b"`: true, `"\u00e9\n"`: true, `"é"`: true,
		`"`: false, `"a"b"`: false, `"\x"`: false, `"\u00g0"`: false, `"\u00e"`: false, `"a\"`: false, "\"\n\"": false, `a`: false,
	} {
		if got := jsonString([]byte(s)); got != want {
			t.Errorf("jsonString(%s) = %v", s, got)
		}
	}
}

// BenchmarkRelayChecks is the per-event work of the plain relay on a content
// delta: what it scanned before events were vetted (two key searches and the
// slug check), and what it does now — a template match that also proves the
// event valid JSON — with no tools offered, and with tools offered to a
// backend whose text form (hermes) is watched for.
func BenchmarkRelayChecks(b *testing.B) {
	first, ev := simEvent("Hello"), simEvent(" world")
	b.Run("before/scans", func(b *testing.B) {
		for b.Loop() {
			_ = bytes.Contains(ev, usageKey)
			_ = bytes.Contains(ev, errorKey)
			_ = slugged(ev, "sim-chat")
		}
	})
	b.Run("vet/template", func(b *testing.B) {
		v := &vet{slug: "sim-chat"}
		v.check(first)
		for b.Loop() {
			if in := v.check(ev); !in.plain {
				b.Fatal("no template match")
			}
		}
	})
	b.Run("vet/template+hermes", func(b *testing.B) {
		v := &vet{slug: "sim-chat", tools: true, fx: newCallFix(backend.ToolCallsHermes, func() []string { return nil })}
		v.check(first)
		v.fx.fix(first) // decides the text is plain
		for b.Loop() {
			if in := v.check(ev); !in.plain || v.fx.wants(in) {
				b.Fatal("a plain event went to the fixer")
			}
		}
	})
	b.Run("vet/full", func(b *testing.B) { // an event unlike the template: validated in full
		v := &vet{slug: "sim-chat", learned: maxLearn}
		for b.Loop() {
			v.check(ev)
		}
	})
}
