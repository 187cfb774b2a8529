package lambda_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"spass/local/lambda"
	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/lambdahttp"
)

// TestEventSamples checks functions/<group>/event.json, the events for
// `sam local invoke`: each hits a route of its group the way the template exposes it,
// and the group's Lambda handler answers it with 200 (what sam local invoke shows).
func TestEventSamples(t *testing.T) {
	tpl := loadTemplate(t)
	sim := httptest.NewServer(simulator.New(simulator.Options{}))
	defer sim.Close()
	env := map[string]string{
		"BACKEND_KIND": "simulator", "BACKEND_BASE_URL": sim.URL, "MODEL_NAME": "sim-chat",
		"API_KEYS": "sk-change-me", "SPASS_OPERATOR_TOKEN": "sk-change-me-operator", "SPASS_DATA_DIR": t.TempDir(),
	}
	cfg, err := lambdahttp.Config(func(k string) string { return env[k] }, false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	for _, spec := range lambda.Functions {
		t.Run(spec.Group, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, "functions", spec.Group, "event.json"))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			g := groupNamed(t, spec.Group)
			mux := http.NewServeMux()
			for _, r := range g.Routes {
				mux.HandleFunc(r, func(http.ResponseWriter, *http.Request) {})
			}
			_, pattern := mux.Handler(httptest.NewRequest(ev.RequestContext.HTTP.Method, ev.RawPath, nil))
			if pattern == "" {
				t.Fatalf("%s %s is no route of group %s", ev.RequestContext.HTTP.Method, ev.RawPath, spec.Group)
			}
			fn := tpl.Functions[spec.LogicalID]
			if lambdahttp.IsFunctionURL(raw) {
				if !fn.Streams() || ev.RouteKey != "$default" {
					t.Errorf("a Function URL event for %s, which has no streaming Function URL (or routeKey %q)", spec.LogicalID, ev.RouteKey)
				}
			} else if key := lambda.RouteKey(pattern); ev.RouteKey != key || !slices.Contains(fn.Routes, key) {
				t.Errorf("routeKey %q: want %q, an HttpApi route of %s", ev.RouteKey, key, spec.LogicalID)
			}

			out, err := lambdahttp.Handler(g.New(a))(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			status, body := answer(t, out)
			if status != http.StatusOK {
				t.Errorf("status %d: %s", status, body)
			}
			if lambdahttp.IsFunctionURL(raw) && slices.Contains(spec.Streamed, pattern) && !strings.Contains(body, "data: [DONE]") {
				t.Errorf("the streamed sample did not stream SSE: %s", body)
			}
		})
	}
}

// answer reads a Lambda handler's result: a buffered HTTP API response, or a
// streamed one (prelude, eight NULs, body).
func answer(t *testing.T, out any) (int, string) {
	t.Helper()
	switch r := out.(type) {
	case events.APIGatewayV2HTTPResponse:
		return r.StatusCode, r.Body
	case *events.LambdaFunctionURLStreamingResponse:
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := strings.Cut(string(b), "\x00\x00\x00\x00\x00\x00\x00\x00")
		if !ok {
			t.Fatalf("no prelude in %q", b)
		}
		var p struct{ StatusCode int }
		json.Unmarshal([]byte(head), &p)
		return p.StatusCode, body
	}
	t.Fatalf("unexpected handler result %T", out)
	return 0, ""
}
