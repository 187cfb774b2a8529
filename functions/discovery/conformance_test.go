package discovery_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"spass/functions/agents"
	"spass/functions/conversations"
	"spass/functions/discovery"
	"spass/functions/mcp"
	"spass/functions/openai"
	"spass/functions/rag"
	"spass/functions/tenant"
)

func TestMain(m *testing.M) {
	// kin-openapi decodes only the media types registered in its (process-wide)
	// registry; the portal's text types are read as plain strings.
	for _, ct := range []string{"text/html", "text/css", "text/javascript", "image/svg+xml", "audio/wav", "audio/pcm"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
	os.Exit(m.Run())
}

// contract checks real exchanges against /openapi.json and remembers which
// operations answered with a success, so a test can tell which it never exercised.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	served map[string]bool // "GET /v1/models" -> a 2xx or 3xx was validated
}

func newContract(t *testing.T) *contract {
	doc := loadSpec(t)
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{doc: doc, router: r, served: map[string]bool{}}
}

// client does not follow redirects, so the 302 of "/" is what gets validated.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends req and validates the response (and, for a success, the request) against
// the document. It returns the response with its body read into the returned bytes.
func (c *contract) do(t *testing.T, req *http.Request, wantStatus int) (*http.Response, []byte) {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	name := req.Method + " " + req.URL.Path
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, wantStatus, body)
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: not in the document: %v", name, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if resp.StatusCode < 400 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s: the test's request does not match the document: %v", name, err)
		}
		c.served[route.Method+" "+route.Path] = true
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	stream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	out.Options.ExcludeResponseBody = stream
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s -> %d: the response does not match the document: %v\nbody: %.400s", name, resp.StatusCode, err, body)
	}
	if stream {
		c.checkEvents(t, name, route, body)
	}
	return resp, body
}

// checkEvents validates every data event of an SSE body against the schema the
// document gives text/event-stream (one event), and requires the stream to end with
// [DONE] or an error event.
func (c *contract) checkEvents(t *testing.T, name string, route *routers.Route, body []byte) {
	t.Helper()
	schema := route.Operation.Responses.Status(200).Value.Content.Get("text/event-stream").Schema.Value
	var last string
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		last = data
		if data == "[DONE]" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("%s: event %q is not JSON", name, data)
		}
		if err := schema.VisitJSON(v, openapi3.VisitAsResponse()); err != nil {
			t.Errorf("%s: event %s does not match the document: %v", name, data, err)
		}
		n++
	}
	// A Responses API stream ends with its terminal event, an A2A stream
	// (message/stream) with its final status-update.
	terminal := strings.Contains(last, `"type":"response.completed"`) || strings.Contains(last, `"type":"response.incomplete"`) ||
		strings.Contains(last, `"type":"response.failed"`) || strings.Contains(last, `"final":true`)
	if n == 0 || (last != "[DONE]" && !strings.HasPrefix(last, `{"error"`) && !terminal) {
		t.Errorf("%s: %d events, last %q", name, n, last)
	}
}

// unexercised lists the operations of the given groups' routes that no validated
// exchange answered with a success. A method-less route counts as each operation
// the document lists on its path (see routeOperations), so every method its handler
// dispatches must be exercised, not just one of them.
func (c *contract) unexercised(routes ...[]string) []string {
	var out []string
	for _, rs := range routes {
		for _, r := range rs {
			ops, _ := routeOperations(c.doc, r)
			for _, op := range ops {
				if !c.served[op] {
					out = append(out, op)
				}
			}
		}
	}
	return out
}

// groupsUnderTest are the groups whose every route TestResponsesMatchSpec exercises.
// The admin group's queue monitor needs Redis and is exercised by its errors only.
var groupsUnderTest = [][]string{openai.Routes, conversations.Routes, agents.Routes, discovery.Routes, tenant.Routes, rag.Routes, mcp.Routes, {"GET /statsz", "GET /metrics"}}
