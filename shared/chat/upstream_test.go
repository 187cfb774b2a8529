package chat

import (
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"
)

// TestSplice: rewritten values keep their place and the document's other bytes,
// removed members take one comma with them, new members are appended.
func TestSplice(t *testing.T) {
	set := func(v string) func(string, gjson.Result, []byte) ([]byte, bool) {
		return func(_ string, _ gjson.Result, dst []byte) ([]byte, bool) { return append(dst, v...), true }
	}
	del := func(string, gjson.Result, []byte) ([]byte, bool) { return nil, false }
	for _, tt := range []struct {
		in   string
		keys []string
		edit func(string, gjson.Result, []byte) ([]byte, bool)
		want string
	}{
		{`{"a":1,"b":2}`, []string{"b"}, set("3"), `{"a":1,"b":3}`},
		{`{"a":1, "b" : 2 }`, []string{"a"}, set(`"x"`), `{"a":"x", "b" : 2 }`},
		{`{"a":1,"b":2}`, []string{"c"}, set("true"), `{"a":1,"b":2,"c":true}`},
		{"{ }", []string{"c"}, set("1"), `{ "c":1}`},
		{`{}`, []string{"c", "d"}, set("1"), `{"c":1,"d":1}`},
		{`{"a":1,"b":2,"c":3}`, []string{"b"}, del, `{"a":1,"c":3}`},
		{`{"a":1,"b":2,"c":3}`, []string{"a"}, del, `{"b":2,"c":3}`},
		{`{"a":1,"b":2,"c":3}`, []string{"c"}, del, `{"a":1,"b":2}`},
		{`{"a":1,"b":2,"c":3}`, []string{"a", "b"}, del, `{"c":3}`},
		{`{"a":1}`, []string{"a"}, del, `{}`},
		{`{"a":1}`, []string{"z"}, del, `{"a":1}`},
		{` {"a" : [1, 2] , "b":{"c":1}} `, []string{"b", "a"}, set("0"), ` {"a" : 0 , "b":0} `},
	} {
		got := string(splice([]byte(tt.in), tt.keys, 0, func(k string, old gjson.Result, dst []byte) ([]byte, bool) {
			if tt.edit == nil {
				return dst, true
			}
			out, keep := tt.edit(k, old, nil)
			return append(dst, out...), keep
		}))
		if got != tt.want {
			t.Errorf("splice(%s, %v) = %s, want %s", tt.in, tt.keys, got, tt.want)
		}
	}
}

// TestUpstreamBody: what the backend must read, spliced; a body that needs no
// change goes as it came.
func TestUpstreamBody(t *testing.T) {
	for _, tt := range []struct{ in, up, want string }{
		{`{"model":"m","messages":[],"stream":false}`, "m", `{"model":"m","messages":[],"stream":false}`},
		{`{"model":"m","messages":[]}`, "m", `{"model":"m","messages":[],"stream":false}`},
		{`{"model":"m","messages":[],"stream":null}`, "up", `{"model":"up","messages":[],"stream":false}`},
		{`{"model":"m","messages":[],"stream":true}`, "m", `{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`},
		{`{"model":"m","stream_options":{"x":1},"stream":true,"messages":[]}`, "m", `{"model":"m","stream_options":{"x":1,"include_usage":true},"stream":true,"messages":[]}`},
		{`{"model":"m","stream_options":{"include_usage":true},"stream":true,"messages":[]}`, "m", `{"model":"m","stream_options":{"include_usage":true},"stream":true,"messages":[]}`},
	} {
		req := &Request{Raw: []byte(tt.in)}
		var f map[string]any
		json.Unmarshal(req.Raw, &f)
		req.Model = f["model"].(string)
		_, req.streamSet = f["stream"]
		req.streamNull = req.streamSet && f["stream"] == nil
		req.Stream = f["stream"] == true
		if so, ok := f["stream_options"].(map[string]any); ok {
			req.IncludeUsage = so["include_usage"] == true
		}
		got, err := upstreamBody(req, tt.up)
		if err != nil || string(got) != tt.want {
			t.Errorf("upstreamBody(%s, %s) = %s, %v; want %s", tt.in, tt.up, got, err, tt.want)
		}
	}
}
