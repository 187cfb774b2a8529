package lambda_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"spass/local/lambda"
	"spass/local/logbuf"
)

// helperRoutes reach the helper function's behaviours as HTTP API routes (/api/...,
// buffered) and as its Function URL (/url/..., streamed).
var helperRoutes = []lambda.Route{
	{Pattern: "GET /echo/{id}", Function: "Helper"},
	{Pattern: "POST /echo", Function: "Helper"},
	{Pattern: "GET /plain", Function: "Helper"},
	{Pattern: "GET /fail", Function: "Helper"},
	{Pattern: "GET /panic", Function: "Helper"},
	{Pattern: "GET /sleep", Function: "Helper"},
	{Pattern: "GET /api/stream", Function: "Helper"},
	{Pattern: "GET /url/echo", Function: "Helper", URL: true},
	{Pattern: "GET /url/stream", Function: "Helper", URL: true},
	{Pattern: "GET /url/cut", Function: "Helper", URL: true},
}

// startHelper serves helperRoutes from the test binary acting as a function.
func startHelper(t *testing.T, mode string, tune func(*lambda.Function)) (*lambda.Emulator, string, *logbuf.Buffer) {
	t.Helper()
	fn := lambda.Function{Name: "Helper", Path: os.Args[0], Env: []string{"LAMBDA_EMULATOR_TEST_FUNCTION=" + mode}, Timeout: 20 * time.Second}
	if tune != nil {
		tune(&fn)
	}
	logs := &logbuf.Buffer{}
	e, err := lambda.New([]lambda.Function{fn}, helperRoutes, logs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		e.Close() // first: killing the functions ends any response still relayed
		srv.Close()
		if t.Failed() {
			t.Logf("emulator log:\n%s", logs)
		}
	})
	return e, srv.URL, logs
}

var client = &http.Client{Timeout: 30 * time.Second}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, body
}

func TestHTTPAPIEvent(t *testing.T) {
	_, url, _ := startHelper(t, "on", nil)
	req, _ := http.NewRequest("GET", url+"/echo/42?a=1&a=2&b=x", nil)
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Echo") != "yes" || resp.Header.Get("Set-Cookie") != "flavour=oat" {
		t.Errorf("response: status %d headers %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Error("no X-Amzn-Requestid")
	}
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "GET /echo/{id}"},
		{"rawPath", ev.RawPath, "/echo/42"},
		{"rawQueryString", ev.RawQueryString, "a=1&a=2&b=x"},
		{"query a", ev.QueryStringParameters["a"], "1,2"},
		{"header x-multi", ev.Headers["x-multi"], "1,2"},
		{"cookies", strings.Join(ev.Cookies, "|"), "c1=v1|c2=v2"},
		{"path parameter", ev.PathParameters["id"], "42"},
		{"method", ev.RequestContext.HTTP.Method, "GET"},
		{"source ip", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, ok := ev.Headers["cookie"]; ok || strings.Contains(ev.RequestContext.DomainName, ".lambda-url.") {
		t.Errorf("cookie header kept or Function URL domain on an HTTP API event: %+v", ev)
	}
}

func TestEventBodies(t *testing.T) {
	_, url, _ := startHelper(t, "on", nil)
	for name, tc := range map[string]struct {
		contentType string
		body        []byte
		base64      bool
	}{
		"json travels as text":      {"application/json", []byte(`{"x":"é"}`), false},
		"an image travels base64":   {"image/png", []byte{0x89, 'P', 'N', 'G', 0, 0xff}, true},
		"invalid utf-8 goes base64": {"text/plain", []byte{0xff, 0xfe}, true},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := client.Post(url+"/echo", tc.contentType, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var ev events.APIGatewayV2HTTPRequest
			json.NewDecoder(resp.Body).Decode(&ev)
			got := []byte(ev.Body)
			if ev.IsBase64Encoded {
				got, _ = base64.StdEncoding.DecodeString(ev.Body)
			}
			if ev.IsBase64Encoded != tc.base64 || !bytes.Equal(got, tc.body) {
				t.Errorf("base64 %v body %q, want %v %q", ev.IsBase64Encoded, got, tc.base64, tc.body)
			}
		})
	}
}

func TestFunctionURLEvent(t *testing.T) {
	_, url, _ := startHelper(t, "on", nil)
	// The helper answers a buffered structure; a streaming Function URL passes it
	// through as the body.
	_, body := get(t, url+"/url/echo")
	var out events.APIGatewayV2HTTPResponse
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if err := json.Unmarshal([]byte(out.Body), &ev); err != nil {
		t.Fatalf("%v: %s", err, out.Body)
	}
	if ev.RouteKey != "$default" || !strings.Contains(ev.RequestContext.DomainName, ".lambda-url.") || ev.PathParameters != nil {
		t.Errorf("not a Function URL event: routeKey %q domain %q", ev.RouteKey, ev.RequestContext.DomainName)
	}
}

func TestBufferedAnswers(t *testing.T) {
	_, url, logs := startHelper(t, "on", nil)
	open := filepath.Join(t.TempDir(), "open")
	os.WriteFile(open, nil, 0o600)
	cases := []struct {
		path, wantBody string
		status         int
	}{
		{"/plain", `{"hello":"world"}`, http.StatusOK},
		{"/fail", `{"message":"Internal Server Error"}`, http.StatusBadGateway},
		{"/api/stream?gate=" + open, `{"message":"Internal Server Error"}`, http.StatusBadGateway},
		{"/nowhere", `{"message":"Not Found"}`, http.StatusNotFound},
	}
	for _, c := range cases {
		resp, body := get(t, url+c.path)
		if resp.StatusCode != c.status || strings.TrimSpace(string(body)) != c.wantBody {
			t.Errorf("GET %s = %d %s, want %d %s", c.path, resp.StatusCode, body, c.status, c.wantBody)
		}
	}
	for _, want := range []string{"boom", "only a Function URL with InvokeMode RESPONSE_STREAM can stream"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestStreamIsRelayedWriteByWrite proves the relay holds nothing back: the function
// cannot send its second part before the client has read the first.
func TestStreamIsRelayedWriteByWrite(t *testing.T) {
	_, url, _ := startHelper(t, "on", nil)
	gate := filepath.Join(t.TempDir(), "gate")
	resp, err := client.Get(url + "/url/stream?gate=" + gate)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("Set-Cookie") != "s=1" {
		t.Errorf("prelude not applied: %d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "one\n" {
		t.Fatalf("first part %q, %v", first, err)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "two\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestStreamErrorBreaksTheResponse(t *testing.T) {
	_, url, logs := startHelper(t, "on", nil)
	resp, err := client.Get(url + "/url/cut")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the stream ended cleanly with %q; a function error must cut it", body)
	}
	if string(body) != "partial" || !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("got %q; log:\n%s", body, logs)
	}
}
