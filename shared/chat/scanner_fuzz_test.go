package chat

import (
	"encoding/json"
	"testing"
)

// strict is what a strict JSON parser with last-wins duplicates (Python's json,
// pydantic, encoding/json into a map) reads from a body: the fields policy and
// billing decide on.
type strict struct {
	model         string
	stream        bool
	includeUsage  bool
	parsed, valid bool
}

func readStrict(b []byte) strict {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return strict{}
	}
	s := strict{parsed: true, valid: true}
	if json.Unmarshal(top["model"], &s.model) != nil {
		s.valid = false
	}
	if raw, ok := top["stream"]; ok && string(raw) != "null" && json.Unmarshal(raw, &s.stream) != nil {
		s.valid = false
	}
	if raw, ok := top["stream_options"]; ok && string(raw) != "null" {
		var opts map[string]json.RawMessage
		if json.Unmarshal(raw, &opts) == nil {
			json.Unmarshal(opts["include_usage"], &s.includeUsage)
		}
	}
	return s
}

// FuzzScannerAgreesWithStrictParser checks that whatever the gateway decides from
// a body (the model policy and billing see, whether it streams, whether the client
// asked for usage) is what a strict parser reads from the body it forwards.
func FuzzScannerAgreesWithStrictParser(f *testing.F) {
	for _, seed := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"model":"x"}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"mod\u0065l":"x"}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false,"stream":true}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":null}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true,"include_usage":false}}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"stream_options":null}`,
		` {"messages":[{"role":"user","content":"hi"}],"model":"m\u00e9"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseChat(body)
		if err != nil {
			return // refused: nothing is forwarded
		}
		orig := readStrict(body)
		if !orig.parsed {
			return // no strict parser reads it: the backend refuses it too
		}
		if orig.valid && orig.model != req.Model {
			t.Fatalf("gateway model %q, strict parser %q in %s", req.Model, orig.model, body)
		}
		if req.Stream && orig.includeUsage != req.IncludeUsage {
			t.Fatalf("gateway include_usage %v, strict parser %v in %s", req.IncludeUsage, orig.includeUsage, body)
		}
		fwd, err := upstreamBody(req, req.Model)
		if err != nil {
			return
		}
		got := readStrict(fwd)
		if !got.parsed {
			t.Fatalf("forwarded body is not JSON: %s (from %s)", fwd, body)
		}
		if got.model != req.Model || got.stream != req.Stream {
			t.Fatalf("forwarded model %q stream %v; gateway decided %q %v\nbody %s\nforwarded %s", got.model, got.stream, req.Model, req.Stream, body, fwd)
		}
		if req.Stream && !got.includeUsage {
			t.Fatalf("a forwarded stream does not ask for usage: %s", fwd)
		}
	})
}
