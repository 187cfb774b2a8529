package chat

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/router"
	"spass/shared/tools"
)

// naturalBody is loop.body as the edits read best, one sjson edit after the
// other: messages, tools, model, stream.
func naturalBody(l *loop, t router.Target, stream bool) []byte {
	msgs := gjson.GetBytes(l.req.Raw, "messages").Raw
	for _, m := range l.extra {
		msgs = msgs[:len(msgs)-1] + "," + string(m) + "]"
	}
	arr := "["
	gjson.GetBytes(l.req.Raw, "tools").ForEach(func(_, v gjson.Result) bool {
		arr += v.Raw + ","
		return true
	})
	arr += string(l.stack.Definitions()) + "]"
	b, _ := sjson.SetRawBytes(l.req.Raw, "messages", []byte(msgs))
	b, _ = sjson.SetRawBytes(b, "tools", []byte(arr))
	if t.Model != l.req.Model {
		b, _ = sjson.SetBytes(b, "model", t.Model)
	}
	b, _ = sjson.SetBytes(b, "stream", stream)
	if stream {
		b, _ = sjson.SetBytes(b, "stream_options.include_usage", true)
	} else {
		b, _ = sjson.DeleteBytes(b, "stream_options")
	}
	return b
}

// calcSelection is a stack-tool selection of one tool, calc.
func calcSelection(t *testing.T) *tools.Selection {
	r := tools.NewRegistry()
	err := r.Add(tools.Tool{Name: "calc", Parameters: json.RawMessage(`{"type":"object"}`),
		Execute: func(context.Context, tools.Call, json.RawMessage) (any, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return r.Select([]uint16{0})
}

// TestLoopBodyMatchesNaturalOrder: the spliced body says what the sjson edits
// made one after the other say, and parses as the same JSON.
func TestLoopBodyMatchesNaturalOrder(t *testing.T) {
	bodies := []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false},"temperature":0}`,
		`{"tools":[{"type":"function","function":{"name":"f"}}],"model":"m", "messages" : [ {"role":"user","content":"hi"} ] ,"stream":false}`,
		`{ "stream_options" : {"include_usage":true,"x":1} , "model":"m","messages":[{"role":"user","content":"hi"}],"tools":[ ]}`,
		`{"model":"m","stream_options":null,"messages":[{"role":"user","content":"hi"}]}`,
		"{\n  \"model\": \"m\",\n  \"messages\": [{\"role\":\"user\",\"content\":\"hi\"}],\n  \"stream_options\": {}\n}\n",
	}
	extras := [][][]byte{nil, {[]byte(`{"role":"assistant","content":null}`), []byte(`{"role":"tool","content":"1"}`)}}
	sel := calcSelection(t)
	for _, raw := range bodies {
		for _, extra := range extras {
			for _, up := range []string{"m", "upstream-m", "odd \"m\"\u00e9"} {
				for _, stream := range []bool{false, true} {
					l := &loop{req: &Request{Raw: []byte(raw), Model: "m"}, stack: sel, extra: extra}
					tgt := router.Target{Model: up}
					got, err := l.body(tgt, stream)
					if err != nil {
						t.Fatal(err)
					}
					want := naturalBody(l, tgt, stream)
					var g, w any
					if err := json.Unmarshal(got, &g); err != nil {
						t.Fatalf("body(%s, extra %d, %s, stream %v) is not JSON: %v\n%s", raw, len(extra), up, stream, err, got)
					}
					json.Unmarshal(want, &w)
					if !reflect.DeepEqual(g, w) {
						t.Errorf("body(%s, extra %d, %s, stream %v)\n got %s\nwant %s", raw, len(extra), up, stream, got, want)
					}
				}
			}
		}
	}
}

// TestLoopNames: the caller's tools, then the stack tools.
func TestLoopNames(t *testing.T) {
	l := &loop{req: &Request{Raw: []byte(`{"tools":[{"type":"function","function":{"name":"f"}}]}`)}, stack: calcSelection(t)}
	if got, want := l.names(), []string{"f", "calc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names() = %v, want %v", got, want)
	}
}
