package simulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// object is shorthand for the JSON objects tests build and inspect.
type object = map[string]any

func start(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	sim := New(o)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, ts
}

// post sends body, marshalled unless it is already a string, as JSON.
func post(t *testing.T, ts *httptest.Server, path string, body any, header ...string) *http.Response {
	t.Helper()
	resp, err := doPost(ts, path, body, header...)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

func doPost(ts *httptest.Server, path string, body any, header ...string) (*http.Response, error) {
	data, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		data = string(b)
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return ts.Client().Do(req)
}

func get(t *testing.T, ts *httptest.Server, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// decode reads resp's body as JSON into a T, failing the test unless the
// status is wantStatus.
func decode[T any](t *testing.T, resp *http.Response, wantStatus int) T {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, wantStatus, body)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}

// checkAPIError asserts that resp is an OpenAI-shaped error with the given
// status and code (empty code means null).
func checkAPIError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body := decode[object](t, resp, status)
	e, ok := body["error"].(object)
	if !ok {
		t.Fatalf("no error object in %v", body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error.message empty in %v", e)
	}
	if typ, _ := e["type"].(string); typ == "" {
		t.Errorf("error.type empty in %v", e)
	}
	for _, key := range []string{"param", "code"} {
		if _, ok := e[key]; !ok {
			t.Errorf("error.%s missing in %v", key, e)
		}
	}
	var want any
	if code != "" {
		want = code
	}
	if e["code"] != want {
		t.Errorf("error.code = %v, want %v", e["code"], want)
	}
}

// sseStream is what a client read from a chat completion stream.
type sseStream struct {
	events [][]byte // data payloads before [DONE]
	done   bool     // [DONE] arrived
	err    error    // why reading stopped, if not at [DONE]
}

func (s sseStream) chunks(t *testing.T) []chatChunk {
	t.Helper()
	chunks := make([]chatChunk, len(s.events))
	for i, e := range s.events {
		if err := json.Unmarshal(e, &chunks[i]); err != nil {
			t.Fatalf("chunk %d %s: %v", i, e, err)
		}
	}
	return chunks
}

// readSSE reads a Server-Sent Events body until [DONE] or the end, and
// checks the framing: every event is one "data:" line and a blank line.
func readSSE(t *testing.T, resp *http.Response) sseStream {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	var s sseStream
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			s.err = err
			return s
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			t.Fatalf("unexpected line %q", line)
		}
		if blank, err := r.ReadBytes('\n'); err != nil || string(blank) != "\n" {
			s.err = errors.Join(errors.New("event not terminated by a blank line"), err)
			return s
		}
		data = bytes.TrimSuffix(data, []byte("\n"))
		if string(data) == "[DONE]" {
			s.done = true
			if rest, _ := io.ReadAll(r); len(rest) > 0 {
				t.Errorf("data after [DONE]: %q", rest)
			}
			return s
		}
		s.events = append(s.events, data)
	}
}

// openAISchema compiles one of the OpenAI response schemas in testdata.
func openAISchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/openai_chat.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return compileSchema(t, doc, "openai_chat.json#/$defs/"+name)
}

// compileSchema compiles schema, which may be any value that encodes as a
// JSON Schema, for validating instances.
func compileSchema(t *testing.T, schema any, loc string) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	url, _, _ := strings.Cut(loc, "#")
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validate checks that instance (JSON text) satisfies schema.
func validate(t *testing.T, schema *jsonschema.Schema, instance []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(instance))
	if err != nil {
		t.Fatalf("%s: %v", instance, err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("%s does not validate: %v", instance, err)
	}
}

// eventually polls cond until it holds, failing the test after a generous
// bound; it asserts an outcome, not a duration.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
