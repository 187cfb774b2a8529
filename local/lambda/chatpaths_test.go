package lambda_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"spass/local/lambda"
	"spass/local/simulator"
)

// TestChatOverBothEventPaths sends chat completions to the real ChatFunction
// bootstrap as an HTTP API event (what `sam local start-api` sends: buffered, a
// streamed request's whole SSE body at the end) and as a Function URL event
// (streamed), and reads both with the official Go SDK.
func TestChatOverBothEventPaths(t *testing.T) {
	e, urlBase := startBundle(t, simulator.New(simulator.Options{}))
	routes, err := lambda.HTTPAPIRoutes(loadTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	h, err := e.Handler(routes)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(h)
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, path := range []struct{ name, base string }{{"HTTP API event, buffered", api.URL}, {"Function URL event, streamed", urlBase}} {
		t.Run(path.name, func(t *testing.T) {
			client := openai.NewClient(option.WithBaseURL(path.base+"/v1"), option.WithAPIKey(bundleToken),
				option.WithHeader("SPASS-User-Id", "alice"), option.WithMaxRetries(0), option.WithRequestTimeout(time.Minute))
			msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello over Lambda")}
			c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "sim-chat", Messages: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Choices) != 1 || !strings.Contains(c.Choices[0].Message.Content, "Hello over Lambda") {
				t.Errorf("completion %+v", c.Choices)
			}
			stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "sim-chat", Messages: msgs})
			var content string
			for stream.Next() {
				if ch := stream.Current(); len(ch.Choices) > 0 {
					content += ch.Choices[0].Delta.Content
				}
			}
			if err := stream.Err(); err != nil || !strings.Contains(content, "Hello over Lambda") {
				t.Errorf("stream: %q, %v", content, err)
			}
			stream.Close()
		})
	}

	// Through the HTTP API a streamed request gets the whole SSE body, to [DONE].
	req, _ := http.NewRequest("POST", api.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+bundleToken)
	req.Header.Set("SPASS-User-Id", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasSuffix(strings.TrimSpace(string(body)), "data: [DONE]") {
		t.Errorf("HTTP API stream: status %d, body %q", resp.StatusCode, body)
	}
	// A route only a Function URL serves is not on the HTTP API: 404 as API Gateway says it.
	resp, err = http.Post(api.URL+"/c1/chat", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /c1/chat on the HTTP API: %d, want 404", resp.StatusCode)
	}
}
