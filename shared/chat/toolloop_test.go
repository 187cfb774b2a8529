package chat

import (
	"testing"

	"github.com/tidwall/sjson"

	"spass/shared/router"
)

// naturalBody is loop.body as the edits read best: messages, tools, model, stream.
func naturalBody(l *loop, t router.Target, stream bool) []byte {
	b, _ := sjson.SetRawBytes(l.req.Raw, "messages", l.messages())
	b, _ = sjson.SetRawBytes(b, "tools", l.toolsArr)
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

func TestLoopBodyMatchesNaturalOrder(t *testing.T) {
	bodies := []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false},"temperature":0}`,
		`{"tools":[{"type":"function","function":{"name":"f"}}],"model":"m", "messages" : [ {"role":"user","content":"hi"} ] ,"stream":false}`,
	}
	extras := [][][]byte{nil, {[]byte(`{"role":"assistant","content":null}`), []byte(`{"role":"tool","content":"1"}`)}}
	for _, raw := range bodies {
		for _, extra := range extras {
			for _, up := range []string{"m", "upstream-m"} {
				for _, stream := range []bool{false, true} {
					l := &loop{req: &Request{Raw: []byte(raw), Model: "m"}, toolsArr: []byte(`[{"type":"function","function":{"name":"calc"}}]`), extra: extra}
					tgt := router.Target{Model: up}
					got, err := l.body(tgt, stream)
					if err != nil {
						t.Fatal(err)
					}
					if want := naturalBody(l, tgt, stream); string(got) != string(want) {
						t.Errorf("body(%s, extra %d, %s, stream %v)\n got %s\nwant %s", raw, len(extra), up, stream, got, want)
					}
				}
			}
		}
	}
}
