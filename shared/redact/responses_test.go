package redact

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestResponsesBodyRedactsTheTextFields(t *testing.T) {
	r := New(mustRules(t))
	in := `{"model":"m","user":"eve@corp.io","instructions":"Answer eve@corp.io","input":[` +
		`{"type":"message","role":"user","content":"key sk-abcdefghijklmnop1234"},` +
		`{"type":"message","role":"user","content":[{"type":"input_text","text":"mail eve@corp.io"},{"type":"input_image","image_url":"data:image/png;base64,AKIAIOSFODNN7EXAMPLE"}]},` +
		`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Sent to eve@corp.io"}]},` +
		`{"type":"function_call","call_id":"c","name":"send","arguments":"{\"to\":\"eve@corp.io\"}"},` +
		`{"type":"function_call_output","call_id":"c","output":"delivered to eve@corp.io"},` +
		`{"type":"reasoning","summary":[{"type":"summary_text","text":"eve@corp.io wants mail"}]}],` +
		`"tools":[{"type":"function","name":"send","description":"mail admin@corp.io"}]}`
	out, err := r.ResponsesBody([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "eve@corp.io") || strings.Contains(s, "sk-abcdefghijklmnop1234") {
		t.Fatalf("body still holds a value: %s", s)
	}
	if !strings.Contains(s, "AKIAIOSFODNN7EXAMPLE") || !strings.Contains(s, "mail admin@corp.io") {
		t.Fatalf("images and tool definitions must be kept: %s", s)
	}
	if got := gjson.Get(s, "input.3.arguments").Str; got != `{"to":"[EMAIL_1]"}` {
		t.Fatalf("arguments = %s", got)
	}
	if r.Items() != 2 {
		t.Fatalf("items %d; want 2: one e-mail, one key", r.Items())
	}
	s2, err := New(mustRules(t)).ResponsesBody([]byte(`{"input":"mail eve@corp.io"}`))
	if err != nil || string(s2) != `{"input":"mail [EMAIL_1]"}` {
		t.Fatalf("string input: %s, %v", s2, err)
	}
}

// TestResponsesStreamHoldsSplitPlaceholders sends placeholders in pieces across
// Responses delta events, text and function arguments: the client's deltas
// are whole and restored, the done events and the finished response restored,
// and sequence numbers only go up.
func TestResponsesStreamHoldsSplitPlaceholders(t *testing.T) {
	r := New(mustRules(t))
	r.Text("bob@x.io")
	s := NewStream(r)
	events := []string{
		`{"type":"response.created","sequence_number":0,"response":{"instructions":"for [EMAIL_1]","output":[]}}`,
		`{"type":"response.output_text.delta","sequence_number":1,"item_id":"m","output_index":0,"content_index":0,"delta":"Mail [EM"}`,
		`{"type":"response.output_text.delta","sequence_number":2,"item_id":"m","output_index":0,"content_index":0,"delta":"AIL_"}`,
		`{"type":"response.output_text.delta","sequence_number":3,"item_id":"m","output_index":0,"content_index":0,"delta":"1] now ["}`,
		`{"type":"response.output_text.done","sequence_number":4,"item_id":"m","output_index":0,"content_index":0,"text":"Mail [EMAIL_1] now ["}`,
		`{"type":"response.function_call_arguments.delta","sequence_number":5,"item_id":"f","output_index":1,"delta":"{\"to\":\"[EMAIL"}`,
		`{"type":"response.function_call_arguments.delta","sequence_number":6,"item_id":"f","output_index":1,"delta":"_1]\"}"}`,
		`{"type":"response.completed","sequence_number":7,"response":{"output":[{"type":"message","content":[{"type":"output_text","text":"Mail [EMAIL_1] now ["}]}]}}`,
	}
	var text, args strings.Builder
	var all []string
	seq := int64(-1)
	for _, e := range events {
		for _, out := range s.Event([]byte(e)) {
			ev := gjson.ParseBytes(out)
			if n := ev.Get("sequence_number").Int(); n <= seq {
				t.Fatalf("sequence number %d after %d", n, seq)
			} else {
				seq = n
			}
			all = append(all, string(out))
			switch ev.Get("type").Str {
			case "response.output_text.delta":
				text.WriteString(ev.Get("delta").Str)
			case "response.function_call_arguments.delta":
				args.WriteString(ev.Get("delta").Str)
			}
		}
	}
	if got := text.String(); got != "Mail bob@x.io now [" {
		t.Fatalf("text = %q", got)
	}
	if got := args.String(); got != `{"to":"bob@x.io"}` {
		t.Fatalf("arguments = %q", got)
	}
	joined := strings.Join(all, "\n")
	if strings.Contains(joined, "[EMAIL") || strings.Count(joined, "bob@x.io") != 5 {
		t.Fatalf("events sent:\n%s", joined)
	}
}
