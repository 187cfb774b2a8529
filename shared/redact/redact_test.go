package redact

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func mustRules(t *testing.T, patterns ...string) *Rules {
	t.Helper()
	r, err := Compile(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTextFindsEachKind(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"email", "write to bob.smith+x@mail.example.com today", "write to [EMAIL_1] today"},
		{"openai key", "key sk-proj-abcdefghijklmnop1234 here", "key [KEY_1] here"},
		{"bearer", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "Authorization: Bearer [KEY_1]"},
		{"aws", "AKIAIOSFODNN7EXAMPLE is the id", "[KEY_1] is the id"},
		{"github", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token [KEY_1]"},
		{"generic key=value", `api_key="Zx81kQp2Lm9vTt7Y"`, `api_key="[KEY_1]"`},
		{"card with spaces", "card 4111 1111 1111 1111 exp", "card [CARD_1] exp"},
		{"card failing luhn", "order 4111 1111 1111 1112", "order 4111 1111 1111 1112"},
		{"international phone", "call +49 30 1234 5678 now", "call [PHONE_1] now"},
		{"us phone", "call (415) 555-0134 now", "call [PHONE_1] now"},
		{"plain words and numbers", "token=refreshed_every_hour, 2024-05-01, 12 items", "token=refreshed_every_hour, 2024-05-01, 12 items"},
		{"same value same placeholder", "a@b.io and c@d.io and a@b.io", "[EMAIL_1] and [EMAIL_2] and [EMAIL_1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(mustRules(t))
			got := r.Text(tt.in)
			if got != tt.want {
				t.Fatalf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if back := r.RestoreText(got); back != tt.in {
				t.Fatalf("RestoreText = %q, want the original %q", back, tt.in)
			}
		})
	}
}

func TestCustomPatterns(t *testing.T) {
	r := New(mustRules(t, `EMP-\d{6}`, `project (\w+)`))
	got := r.Text("EMP-123456 works on project Falcon")
	if want := "[REDACTED_1] works on project [REDACTED_2]"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := Compile([]string{"a*"}); err == nil {
		t.Fatal("a pattern matching the empty string was accepted")
	}
	if _, err := Compile([]string{"("}); err == nil {
		t.Fatal("an invalid pattern was accepted")
	}
}

func TestBodyRedactsMessagesOnly(t *testing.T) {
	r := New(mustRules(t))
	in := `{"model":"m","user":"eve@corp.io","messages":[{"role":"system","content":"keep sk-abcdefghijklmnop1234 safe"},` +
		`{"role":"user","content":[{"type":"text","text":"mail eve@corp.io"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AKIAIOSFODNN7EXAMPLE"}}]},` +
		`{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"send","arguments":"{\"to\":\"eve@corp.io\"}"}}]}],` +
		`"tools":[{"type":"function","function":{"name":"send","description":"mail admin@corp.io"}}]}`
	out, err := r.Body([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, leak := range []string{"sk-abcdefghijklmnop1234", `"mail eve@corp.io"`, `\"eve@corp.io\"`, `"user":"eve@corp.io"`} {
		if strings.Contains(s, leak) {
			t.Fatalf("body still holds %s: %s", leak, s)
		}
	}
	if !strings.Contains(s, "AKIAIOSFODNN7EXAMPLE") || !strings.Contains(s, "mail admin@corp.io") {
		t.Fatalf("images and tool definitions must be kept: %s", s)
	}
	if got := gjson.Get(s, "messages.2.tool_calls.0.function.arguments").Str; got != `{"to":"[EMAIL_1]"}` {
		t.Fatalf("arguments = %s", got)
	}
	if r.Items() != 2 || r.Counts()[Email] != 1 || r.Counts()[Key] != 1 {
		t.Fatalf("items %d, counts %v; want 2: one e-mail, one key", r.Items(), r.Counts())
	}
	answer := `{"choices":[{"message":{"content":"Sent to [EMAIL_1] with [KEY_1]","tool_calls":[{"function":{"arguments":"{\"to\":\"[EMAIL_1]\"}"}}]}}]}`
	back := r.Restore([]byte(answer))
	if got := gjson.GetBytes(back, "choices.0.message.content").Str; got != "Sent to eve@corp.io with sk-abcdefghijklmnop1234" {
		t.Fatalf("restored content %q", got)
	}
	if got := gjson.GetBytes(back, "choices.0.message.tool_calls.0.function.arguments").Str; got != `{"to":"eve@corp.io"}` {
		t.Fatalf("restored arguments %q", got)
	}
}

// TestStreamHoldsSplitPlaceholders sends a placeholder in pieces across deltas,
// text and tool arguments, and checks the client's text is whole and restored.
func TestStreamHoldsSplitPlaceholders(t *testing.T) {
	r := New(mustRules(t))
	r.Text("bob@x.io")
	s := NewStream(r)
	events := []string{
		`{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Mail [EM"}}]}`,
		`{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"AIL_"}}]}`,
		`{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"1] now ["}}]}`,
		`{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"to\":\"[EMAIL"}}]}}]}`,
		`{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"_1]\"}"}}]}}]}`,
		`{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`[DONE]`,
	}
	var text, args strings.Builder
	var last string
	for _, e := range events {
		for _, out := range s.Event([]byte(e)) {
			last = string(out)
			if last == "[DONE]" {
				continue
			}
			text.WriteString(gjson.Get(last, "choices.0.delta.content").Str)
			args.WriteString(gjson.Get(last, "choices.0.delta.tool_calls.0.function.arguments").Str)
		}
	}
	if got := text.String(); got != "Mail bob@x.io now [" {
		t.Fatalf("text = %q", got)
	}
	if got := args.String(); got != `{"to":"bob@x.io"}` {
		t.Fatalf("arguments = %q", got)
	}
	if last != "[DONE]" {
		t.Fatalf("last event %q, want [DONE]", last)
	}
}

func TestStreamWithoutRedactionPassesEventsThrough(t *testing.T) {
	s := NewStream(New(mustRules(t)))
	e := []byte(`{"choices":[{"index":0,"delta":{"content":"a [b"}}]}`)
	if out := s.Event(e); len(out) != 1 || &out[0][0] != &e[0] {
		t.Fatalf("got %q, want the event itself", out)
	}
}
