package lambdahttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Handler turns h into a Lambda handler for payload format 2.0 events. A Function URL
// event is answered as a stream (the returned value is a
// *events.LambdaFunctionURLStreamingResponse, an io.Reader the runtime client posts
// chunk by chunk); any other event is taken as an API Gateway HTTP API event and
// answered with one buffered events.APIGatewayV2HTTPResponse.
//
// The streaming response must stay a pointer inside the returned interface: the
// runtime client JSON-encodes what it gets and falls back to streaming only when
// encoding fails and the value is an io.Reader.
func Handler(h http.Handler) func(context.Context, json.RawMessage) (any, error) {
	h = flushing(h)
	stream := lambdaurl.Wrap(h)
	buffered := httpadapter.NewV2(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		if IsFunctionURL(raw) {
			var ev events.LambdaFunctionURLRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("function URL event: %w", err)
			}
			return stream(ctx, &ev)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("HTTP API event: %w", err)
		}
		return buffered.ProxyWithContext(ctx, ev)
	}
}

// IsFunctionURL reports whether raw is a Function URL event. Both Function URL and
// HTTP API events use payload format 2.0; only a Function URL's domain is
// <url-id>.lambda-url.<region>.on.aws.
func IsFunctionURL(raw []byte) bool {
	var probe struct {
		RequestContext struct {
			DomainName string `json:"domainName"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return false
	}
	return strings.Contains(probe.RequestContext.DomainName, ".lambda-url.")
}

// flushing hands h a writer that is an http.Flusher. Neither Lambda writer is one:
// lambdaurl's writes go straight into the response stream, so there is nothing to
// flush; the proxy's writer buffers the whole response anyway. Handlers that assert
// http.Flusher (SSE) must not panic under either.
func flushing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			w = flushWriter{w}
		}
		h.ServeHTTP(w, r)
	})
}

// flushWriter adds a no-op Flush to a writer that has none.
type flushWriter struct{ http.ResponseWriter }

// Flush does nothing: see flushing.
func (flushWriter) Flush() {}

// Unwrap lets http.ResponseController reach the Lambda writer.
func (w flushWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
