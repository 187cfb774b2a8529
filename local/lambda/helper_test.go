package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"

	"spass/local/gatewaytest"
)

// helperEnv makes the test binary act as a Lambda function (see helperFunction)
// instead of running the tests, so protocol tests need no build.
const helperEnv = "LAMBDA_EMULATOR_TEST_FUNCTION"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		code := m.Run()
		gatewaytest.RemoveBootstraps()
		os.Exit(code)
	case "init-error":
		// What a runtime does when its init fails: report, then exit.
		api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
		http.Post("http://"+api+"/2018-06-01/runtime/init/error", "application/json",
			strings.NewReader(`{"errorType":"Runtime.ConfigError","errorMessage":"no backend configured"}`))
		os.Exit(1)
	default:
		awslambda.StartWithOptions(helperFunction, awslambda.WithEnableSIGTERM(func() {
			if p := os.Getenv("SIGTERM_MARKER"); p != "" {
				os.WriteFile(p, []byte("bye"), 0o600)
			}
			os.Exit(0)
		}))
	}
}

// helperFunction behaves by the event path's first segment after an optional
// /api or /url (which the tests use to reach one behaviour by either kind of event):
//
//	echo     a buffered response whose body is the event it got
//	plain    a bare JSON value, not a structured response
//	fail     an error
//	panic    a panic (the runtime reports it, then the process exits)
//	sleep    outlives any test timeout
//	stream   a stream: "one\n", then, once the file ?gate= exists, "two\n"
//	cut      a stream whose body fails after "partial"
func helperFunction(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	switch behaviour(ev.RawPath) {
	case "echo":
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusCreated,
			Headers:    map[string]string{"Content-Type": "application/json", "X-Echo": "yes"},
			Cookies:    []string{"flavour=oat"},
			Body:       string(raw),
		}, nil
	case "plain":
		return map[string]string{"hello": "world"}, nil
	case "fail":
		return nil, errors.New("boom")
	case "panic":
		panic("kaboom")
	case "sleep":
		time.Sleep(time.Minute)
		return nil, nil
	case "stream":
		return &events.LambdaFunctionURLStreamingResponse{
			StatusCode: http.StatusAccepted,
			Headers:    map[string]string{"Content-Type": "text/plain"},
			Cookies:    []string{"s=1"},
			Body:       &gatedReader{parts: []string{"one\n", "two\n"}, gate: ev.QueryStringParameters["gate"]},
		}, nil
	case "cut":
		return &events.LambdaFunctionURLStreamingResponse{Body: io.MultiReader(strings.NewReader("partial"), failingReader{})}, nil
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotFound}, nil
}

func behaviour(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > 1 && (segs[0] == "api" || segs[0] == "url") {
		segs = segs[1:]
	}
	return segs[0]
}

// gatedReader yields its first part at once and the rest only after the gate file
// exists, so a test can prove the first part reached the client while the function
// was still running.
type gatedReader struct {
	parts []string
	gate  string
	n     int
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.n >= len(g.parts) {
		return 0, io.EOF
	}
	if g.n > 0 {
		for {
			if _, err := os.Stat(g.gate); err == nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	g.n++
	return copy(p, g.parts[g.n-1]), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
