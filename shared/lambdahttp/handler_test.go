package lambdahttp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"spass/shared/lambdahttp"
)

// sse writes two events, flushing each as SSE handlers do (asserting http.Flusher),
// and waits for proceed between them.
func sse(proceed <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher) // panics unless the adapter's writer flushes
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Path", r.URL.Path+"?"+r.URL.RawQuery)
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "data: one\n\n")
		f.Flush()
		<-proceed
		fmt.Fprint(w, "data: two\n\n")
		f.Flush()
	})
}

func event(t *testing.T, domain string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /v1/chat/completions", RawPath: "/v1/chat/completions", RawQueryString: "a=1",
		Headers: map[string]string{"content-type": "application/json"}, Body: `{}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: domain,
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/chat/completions"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFunctionURLEventsStream proves the response is handed to the runtime while
// the handler still runs, as a pointer the runtime streams, with the first event
// readable before the handler writes the second.
func TestFunctionURLEventsStream(t *testing.T) {
	proceed := make(chan struct{})
	defer func() {
		select {
		case <-proceed:
		default:
			close(proceed)
		}
	}()
	type result struct {
		out any
		err error
	}
	res := make(chan result, 1)
	go func() {
		out, err := lambdahttp.Handler(sse(proceed))(context.Background(), event(t, "abc.lambda-url.eu-west-1.on.aws"))
		res <- result{out, err}
	}()
	var r result
	select {
	case r = <-res:
	case <-time.After(30 * time.Second): // a failure bound, not a speed requirement
		t.Fatal("the handler's response came back only after the handler finished: it was buffered")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	out := r.out
	resp, ok := out.(*events.LambdaFunctionURLStreamingResponse)
	if !ok {
		t.Fatalf("result is %T, want *events.LambdaFunctionURLStreamingResponse", out)
	}
	if _, err := json.Marshal(out); err == nil {
		t.Fatal("the streaming response JSON-encodes, so the runtime would buffer it")
	}
	br := bufio.NewReader(resp)
	head, err := br.ReadString(0)
	if err != nil {
		t.Fatal(err)
	}
	var prelude struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(head, "\x00")), &prelude); err != nil {
		t.Fatalf("prelude %q: %v", head, err)
	}
	if prelude.StatusCode != http.StatusAccepted || prelude.Headers["X-Path"] != "/v1/chat/completions?a=1" {
		t.Errorf("prelude %+v", prelude)
	}
	nuls := make([]byte, 7)
	if _, err := io.ReadFull(br, nuls); err != nil || string(nuls) != strings.Repeat("\x00", 7) {
		t.Fatalf("the prelude is not followed by eight NUL bytes: %q, %v", nuls, err)
	}
	first, err := br.ReadString('\n')
	if err != nil || first != "data: one\n" {
		t.Fatalf("first line %q, %v", first, err)
	}
	close(proceed) // only now may the handler write its second event
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: two\n\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// TestHTTPAPIEventsAreBuffered: an HTTP API event gets one whole response, and a
// handler asserting http.Flusher does not panic under the proxy's writer.
func TestHTTPAPIEventsAreBuffered(t *testing.T) {
	proceed := make(chan struct{})
	close(proceed)
	out, err := lambdahttp.Handler(sse(proceed))(context.Background(), event(t, "abc.execute-api.eu-west-1.amazonaws.com"))
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := out.(events.APIGatewayV2HTTPResponse)
	if !ok {
		t.Fatalf("result is %T, want events.APIGatewayV2HTTPResponse", out)
	}
	if resp.StatusCode != http.StatusAccepted || resp.Body != "data: one\n\ndata: two\n\n" || resp.Headers["X-Path"] != "/v1/chat/completions?a=1" {
		t.Errorf("response %+v", resp)
	}
}

func TestIsFunctionURL(t *testing.T) {
	cases := map[string]bool{
		`{"requestContext":{"domainName":"abc.lambda-url.us-east-1.on.aws"}}`:         true,
		`{"requestContext":{"domainName":"abc.execute-api.us-east-1.amazonaws.com"}}`: false,
		`{"requestContext":{"domainName":"localhost"}}`:                               false,
		`not json`: false,
	}
	for in, want := range cases {
		if got := lambdahttp.IsFunctionURL([]byte(in)); got != want {
			t.Errorf("IsFunctionURL(%s) = %v", in, got)
		}
	}
}
