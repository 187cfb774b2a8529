package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// styleRequest asks for two calls: get_weather (arguments from its schema) and
// get_time ({}).
var styleRequest = object{
	"model":    "sim-chat",
	"messages": userMessage("get_weather and get_time please"),
	"tools":    []object{weatherTool, timeTool},
}

// rawStream returns the streamed events' data, before [DONE].
func rawStream(s sseStream) []gjson.Result {
	var out []gjson.Result
	for _, e := range s.events {
		out = append(out, gjson.ParseBytes(e))
	}
	return out
}

func TestToolStyles(t *testing.T) {
	sim, ts := start(t, Options{})
	_, openai := chat(t, ts, styleRequest)
	want := openai.Choices[0].Message.ToolCalls
	if len(want) != 2 {
		t.Fatalf("OpenAI style: %d calls", len(want))
	}

	for _, st := range ToolStyles()[1:] {
		t.Run(string(st), func(t *testing.T) {
			sim.SetToolStyle(st)
			resp := post(t, ts, "/v1/chat/completions", styleRequest)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !json.Valid(body) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			msg := gjson.GetBytes(body, "choices.0.message")
			finish := gjson.GetBytes(body, "choices.0.finish_reason").Str
			s := streamChat(t, ts, styleRequest)
			if !s.done {
				t.Fatalf("no [DONE]: %v", s.err)
			}
			events := rawStream(s)
			var content strings.Builder
			var deltas []gjson.Result
			streamFinish := ""
			for _, e := range events {
				content.WriteString(e.Get("choices.0.delta.content").Str)
				deltas = append(deltas, e.Get("choices.0.delta.tool_calls").Array()...)
				if f := e.Get("choices.0.finish_reason"); f.Type == gjson.String {
					streamFinish = f.Str
				}
			}

			if st.textual() {
				text := strings.Join(callTokens(want, st), "")
				if msg.Get("tool_calls").Exists() || msg.Get("content").Str != text || finish != "stop" {
					t.Fatalf("non-streamed %s, finish %q; want the calls as text %q", msg.Raw, finish, text)
				}
				if content.String() != text || len(deltas) != 0 || streamFinish != "stop" {
					t.Fatalf("streamed content %q, %d tool-call deltas, finish %q", content.String(), len(deltas), streamFinish)
				}
				return
			}
			calls := msg.Get("tool_calls").Array()
			if len(calls) != 2 || content.Len() != 0 {
				t.Fatalf("non-streamed calls %s, streamed content %q", msg.Get("tool_calls").Raw, content.String())
			}
			wantFinish := "tool_calls"
			if st == StyleNoIndex {
				wantFinish = "stop"
			}
			if finish != wantFinish || streamFinish != wantFinish {
				t.Fatalf("finish %q streamed %q, want %q", finish, streamFinish, wantFinish)
			}
			for _, d := range deltas {
				idx := d.Get("index")
				switch st {
				case StyleNoIndex, StyleParallelNoIndex:
					if idx.Exists() || d.Get("function.arguments").Type != gjson.String {
						t.Fatalf("delta %s", d.Raw)
					}
				case StyleNullIndex:
					if idx.Type != gjson.Null || !idx.Exists() {
						t.Fatalf("delta without a null index: %s", d.Raw)
					}
				case StyleObjectArgs:
					if !d.Get("function.arguments").IsObject() || idx.Type != gjson.Number {
						t.Fatalf("delta without object arguments: %s", d.Raw)
					}
				case StyleMissingID:
					if d.Get("id").Exists() || d.Get("type").Exists() || idx.Type != gjson.Number {
						t.Fatalf("delta with an id or type: %s", d.Raw)
					}
				}
			}
			wantDeltas := map[ToolStyle]int{StyleNoIndex: 2, StyleParallelNoIndex: 2, StyleObjectArgs: 2}[st]
			if wantDeltas > 0 && len(deltas) != wantDeltas {
				t.Fatalf("%d tool-call deltas, want each call whole in one: %v", len(deltas), deltas)
			}
			if st == StyleParallelNoIndex && len(events[1].Get("choices.0.delta.tool_calls").Array()) != 2 {
				t.Fatalf("the calls are not in one delta: %s", events[1].Raw)
			}
			for i, c := range calls {
				args := c.Get("function.arguments")
				switch st {
				case StyleObjectArgs:
					if !args.IsObject() {
						t.Errorf("call %d: arguments %s, want an object", i, args.Raw)
					}
				case StyleMissingID:
					if c.Get("id").Exists() || c.Get("type").Exists() {
						t.Errorf("call %d has an id or type: %s", i, c.Raw)
					}
				default:
					if args.Str != want[i].Function.Arguments || c.Get("id").Str != want[i].ID {
						t.Errorf("call %d: %s, want %+v", i, c.Raw, want[i])
					}
				}
				if c.Get("function.name").Str != want[i].Function.Name {
					t.Errorf("call %d: %s, want %s", i, c.Raw, want[i].Function.Name)
				}
			}
		})
	}
	sim.SetToolStyle(StyleOpenAI)
	if _, again := chat(t, ts, styleRequest); len(again.Choices[0].Message.ToolCalls) != 2 || again.Choices[0].Message.ToolCalls[0].ID != "call_1" {
		t.Fatalf("back to OpenAI's style: %+v", again.Choices[0].Message)
	}
}

func TestParseToolStyle(t *testing.T) {
	for _, st := range ToolStyles() {
		if got, err := ParseToolStyle(string(st)); err != nil || got != st {
			t.Errorf("%q: %q %v", st, got, err)
		}
	}
	if got, err := ParseToolStyle("openai"); err != nil || got != StyleOpenAI {
		t.Errorf("openai: %q %v", got, err)
	}
	if _, err := ParseToolStyle("pythonic"); err == nil {
		t.Error("an unknown style was accepted")
	}
}

// TestHalfEvent: one event of the stream is the first half of a chunk, and the
// stream goes on; a non-streamed answer is half a JSON body.
func TestHalfEvent(t *testing.T) {
	_, ts := start(t, Options{Fault: FaultHalfEvent})
	req := object{"model": "sim-chat", "messages": userMessage("one two three four five six")}
	s := streamChat(t, ts, req)
	if !s.done {
		t.Fatalf("no [DONE]: %v", s.err)
	}
	broken := -1
	for i, e := range s.events {
		if !json.Valid(e) {
			if broken >= 0 {
				t.Fatalf("events %d and %d are broken", broken, i)
			}
			broken = i
		}
	}
	if broken != 1+cutAfterTokens || broken == len(s.events)-1 {
		t.Fatalf("broken event %d of %d, want %d and more after it", broken, len(s.events), 1+cutAfterTokens)
	}

	short := streamChat(t, ts, object{"model": "sim-chat", "messages": userMessage("hi"), "max_tokens": 1})
	if n := len(short.events); !short.done || json.Valid(short.events[n-2]) {
		t.Fatalf("a short reply's half event is not before its finish chunk: %q", short.events)
	}

	resp := post(t, ts, "/v1/chat/completions", req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Valid(body) || len(body) == 0 {
		t.Fatalf("non-streamed: %d %q", resp.StatusCode, body)
	}
	if f, err := ParseFault("half-event"); err != nil || f != FaultHalfEvent {
		t.Fatalf("ParseFault: %v %v", f, err)
	}
}
