package sdktest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"spass/local/gatewaytest"
)

// newClient is an openai-go client configured the way the README tells
// tenants to: base URL, gateway token and the SPASS-User-Id default header.
// Retries are off so that error tests see the gateway's first answer.
func newClient(baseURL, token string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(baseURL + "/v1"),
		option.WithAPIKey(token),
		option.WithHeader("SPASS-User-Id", "alice"),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(30 * time.Second),
	}, opts...)...)
}

// weatherTool is a caller-defined function tool.
var weatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Current weather in a city"),
	Parameters: shared.FunctionParameters{
		"type":                 "object",
		"properties":           map[string]any{"city": map[string]any{"type": "string"}},
		"required":             []string{"city"},
		"additionalProperties": false,
	},
})

// weatherPrompt names the tool and carries the arguments the simulator will
// call it with.
const weatherPrompt = `What is the weather in Rome? Use get_weather {"city":"Rome"}`

func TestGoSDK(t *testing.T) { inProcess(t, startGateway, goSDK) }

// goSDK drives the gateway of setupYAML with openai-go: models, chat plain and
// streamed, tools, JSON mode, vision, embeddings, and the catalog's errors.
func goSDK(t *testing.T, env *gatewaytest.Env) {
	client := newClient(env.URL, sdkToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	user := func(text string) []openai.ChatCompletionMessageParamUnion {
		return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}
	}

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
			if m.Object != "model" {
				t.Errorf("model %s: object = %q, want model", m.ID, m.Object)
			}
		}
		for _, want := range []string{"sim-chat", "sim-vision", "sim-embed", model429, model5xx} {
			if !slices.Contains(ids, want) {
				t.Errorf("models %v lack %s", ids, want)
			}
		}
	})

	// A non-streamed answer, the reference for the streamed ones.
	const prompt = "Say hello to the SDK"
	const wantContent = "Hello! You said: " + prompt
	var whole *openai.ChatCompletion

	t.Run("chat", func(t *testing.T) {
		var resp *http.Response
		var err error
		whole, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: user(prompt),
		}, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if len(whole.Choices) != 1 {
			t.Fatalf("%d choices, want 1", len(whole.Choices))
		}
		if got := whole.Choices[0].Message.Content; got != wantContent {
			t.Errorf("content = %q, want %q", got, wantContent)
		}
		if whole.Choices[0].FinishReason != "stop" || whole.Model != "sim-chat" {
			t.Errorf("finish_reason %q, model %q; want stop, sim-chat", whole.Choices[0].FinishReason, whole.Model)
		}
		u := whole.Usage
		if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
			t.Errorf("usage = %+v, want positive counts that add up", u)
		}
		// The SPASS response headers, read through the SDK's raw response.
		if resp == nil {
			t.Fatal("WithResponseInto captured no response")
		}
		for header, want := range map[string]string{"SPASS-Backend": "sim", "SPASS-Tier": "T1", "SPASS-Fallback-Count": "0"} {
			if got := resp.Header.Get(header); got != want {
				t.Errorf("%s = %q, want %q", header, got, want)
			}
		}
		if id := resp.Header.Get("SPASS-Request-Id"); !strings.HasPrefix(id, "req_") {
			t.Errorf("SPASS-Request-Id = %q, want req_…", id)
		}
	})

	t.Run("stream with usage", func(t *testing.T) {
		if whole == nil {
			t.Skip("needs the chat answer")
		}
		var resp *http.Response
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "sim-chat",
			Messages:      user(prompt),
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		}, option.WithResponseInto(&resp))
		defer stream.Close()
		var acc openai.ChatCompletionAccumulator
		var chunks, usageChunks int
		for stream.Next() {
			chunk := stream.Current()
			chunks++
			if chunk.Usage.TotalTokens > 0 {
				usageChunks++
			}
			if !acc.AddChunk(chunk) {
				t.Fatalf("accumulator rejected chunk %d: %s", chunks, chunk.RawJSON())
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 3 {
			t.Errorf("%d chunks, want a real stream (role, tokens, usage)", chunks)
		}
		if len(acc.Choices) != 1 {
			t.Fatalf("%d accumulated choices, want 1", len(acc.Choices))
		}
		if got := acc.Choices[0].Message.Content; got != whole.Choices[0].Message.Content {
			t.Errorf("streamed content = %q, want the non-streamed %q", got, whole.Choices[0].Message.Content)
		}
		if acc.Choices[0].FinishReason != "stop" {
			t.Errorf("finish_reason = %q, want stop", acc.Choices[0].FinishReason)
		}
		if usageChunks != 1 {
			t.Errorf("%d chunks carried usage, want exactly 1", usageChunks)
		}
		if acc.Usage.TotalTokens != whole.Usage.TotalTokens || acc.Usage.CompletionTokens != whole.Usage.CompletionTokens {
			t.Errorf("streamed usage %+v, want the non-streamed %+v", acc.Usage, whole.Usage)
		}
		if resp == nil || resp.Header.Get("SPASS-Backend") != "sim" {
			t.Errorf("streamed response lacks SPASS-Backend: sim (response %v)", resp != nil)
		} else if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("Content-Type = %q, want text/event-stream", ct)
		}
	})

	t.Run("stream without usage", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: user(prompt),
		})
		defer stream.Close()
		var acc openai.ChatCompletionAccumulator
		var chunks int
		for stream.Next() {
			chunk := stream.Current()
			chunks++
			if chunk.Usage.TotalTokens > 0 {
				t.Errorf("chunk %d carries usage although include_usage was not asked for: %s", chunks, chunk.RawJSON())
			}
			if len(chunk.Choices) == 0 {
				t.Errorf("chunk %d has no choices (a stray usage chunk?): %s", chunks, chunk.RawJSON())
			}
			acc.AddChunk(chunk)
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != wantContent {
			t.Errorf("streamed choices = %+v, want content %q", acc.Choices, wantContent)
		}
	})

	t.Run("tools", func(t *testing.T) {
		params := openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: user(weatherPrompt),
			Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
		}
		comp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if comp.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("finish_reason = %q, want tool_calls", comp.Choices[0].FinishReason)
		}
		msg := comp.Choices[0].Message
		if len(msg.ToolCalls) != 1 {
			t.Fatalf("tool calls = %+v, want one", msg.ToolCalls)
		}
		call := msg.ToolCalls[0]
		checkWeatherCall(t, call.ID, call.Function.Name, call.Function.Arguments)

		// Send the result back; the model reports it.
		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("22C and sunny", call.ID))
		final, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if got := final.Choices[0].Message.Content; got != "The result is: 22C and sunny" || final.Choices[0].FinishReason != "stop" {
			t.Errorf("after the tool result: content %q, finish_reason %q", got, final.Choices[0].FinishReason)
		}
	})

	t.Run("tools streamed", func(t *testing.T) {
		params := openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: user(weatherPrompt),
			Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
		}
		acc := accumulate(t, client.Chat.Completions.NewStreaming(ctx, params))
		if len(acc.Choices) != 1 || acc.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("choices = %+v, want one with finish_reason tool_calls", acc.Choices)
		}
		msg := acc.Choices[0].Message
		if len(msg.ToolCalls) != 1 {
			t.Fatalf("accumulated tool calls = %+v, want one", msg.ToolCalls)
		}
		call := msg.ToolCalls[0]
		checkWeatherCall(t, call.ID, call.Function.Name, call.Function.Arguments)

		// The result goes back in a streamed request too.
		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("22C and sunny", call.ID))
		final := accumulate(t, client.Chat.Completions.NewStreaming(ctx, params))
		if len(final.Choices) != 1 || final.Choices[0].Message.Content != "The result is: 22C and sunny" {
			t.Errorf("after the tool result: %+v", final.Choices)
		}
	})

	t.Run("json mode", func(t *testing.T) {
		comp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: user(`Reply in JSON to "hi"`),
			ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
				OfJSONObject: &shared.ResponseFormatJSONObjectParam{},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		content := comp.Choices[0].Message.Content
		var obj map[string]any
		if !json.Valid([]byte(content)) || json.Unmarshal([]byte(content), &obj) != nil || len(obj) == 0 {
			t.Errorf("content %q is not a non-empty JSON object", content)
		}
	})

	t.Run("vision", func(t *testing.T) {
		comp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "sim-vision",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
				openai.TextContentPart("What is in this picture?"),
				openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: tinyPNG(t), Detail: "low"}),
			})},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := comp.Choices[0].Message.Content; !strings.Contains(got, "I see an image.") || !strings.Contains(got, "What is in this picture?") {
			t.Errorf("content = %q, want the image mentioned and the text echoed", got)
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		resp, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "sim-embed",
			Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first text", "second text"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != 2 {
			t.Fatalf("%d embeddings, want 2", len(resp.Data))
		}
		for i, d := range resp.Data {
			if d.Index != int64(i) || len(d.Embedding) == 0 {
				t.Errorf("embedding %d: index %d, %d dimensions", i, d.Index, len(d.Embedding))
			}
		}
		if len(resp.Data[0].Embedding) != len(resp.Data[1].Embedding) || slices.Equal(resp.Data[0].Embedding, resp.Data[1].Embedding) {
			t.Errorf("embeddings of different texts: lengths %d/%d, equal %t",
				len(resp.Data[0].Embedding), len(resp.Data[1].Embedding), slices.Equal(resp.Data[0].Embedding, resp.Data[1].Embedding))
		}
		if resp.Usage.PromptTokens <= 0 {
			t.Errorf("usage = %+v, want prompt tokens", resp.Usage)
		}
	})

	t.Run("errors", func(t *testing.T) {
		hello := func(model string) openai.ChatCompletionNewParams {
			return openai.ChatCompletionNewParams{Model: model, Messages: user("hi")}
		}
		chat := func(c openai.Client, p openai.ChatCompletionNewParams, opts ...option.RequestOption) error {
			_, err := c.Chat.Completions.New(ctx, p, opts...)
			return err
		}
		tests := []struct {
			name   string
			call   func() error
			status int
			typ    string
			code   string
		}{
			{"400 user_id in body", func() error {
				return chat(client, hello("sim-chat"), option.WithJSONSet("user_id", "bob"))
			}, 400, "invalid_request_error", "user_id_not_allowed"},
			{"400 missing user header", func() error {
				noUser := openai.NewClient(option.WithBaseURL(env.URL+"/v1"), option.WithAPIKey(sdkToken), option.WithMaxRetries(0))
				return chat(noUser, hello("sim-chat"))
			}, 400, "invalid_request_error", "missing_user_header"},
			{"401 bad key", func() error {
				return chat(newClient(env.URL, "sk-not-a-token"), hello("sim-chat"))
			}, 401, "authentication_error", "invalid_api_key"},
			{"401 bad key on models", func() error {
				bad := newClient(env.URL, "sk-not-a-token")
				_, err := bad.Models.List(ctx)
				return err
			}, 401, "authentication_error", "invalid_api_key"},
			{"404 unknown model", func() error {
				return chat(client, hello("no-such-model"))
			}, 404, "invalid_request_error", "model_not_found"},
			{"404 unknown embedding model", func() error {
				_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
					Model: "no-such-model",
					Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
				})
				return err
			}, 404, "invalid_request_error", "model_not_found"},
			{"429 every backend rate limited", func() error {
				return chat(client, hello(model429))
			}, 429, "rate_limit_error", "upstream_rate_limited"},
			{"429 streamed", func() error {
				stream := client.Chat.Completions.NewStreaming(ctx, hello(model429))
				defer stream.Close()
				for stream.Next() {
				}
				return stream.Err()
			}, 429, "rate_limit_error", "upstream_rate_limited"},
			{"5xx every backend failing", func() error {
				return chat(client, hello(model5xx))
			}, 502, "api_error", "upstream_error"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.call()
				var apiErr *openai.Error
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %v (%T), want *openai.Error", err, err)
				}
				if apiErr.StatusCode != tt.status || apiErr.Type != tt.typ || apiErr.Code != tt.code {
					t.Errorf("got %d %s/%s, want %d %s/%s; body %s",
						apiErr.StatusCode, apiErr.Type, apiErr.Code, tt.status, tt.typ, tt.code, apiErr.RawJSON())
				}
				if apiErr.Message == "" {
					t.Error("the error has no message")
				}
				h := apiErr.Response.Header
				if !strings.HasPrefix(h.Get("SPASS-Request-Id"), "req_") {
					t.Errorf("SPASS-Request-Id = %q on the error response", h.Get("SPASS-Request-Id"))
				}
				if tt.status == 429 {
					if secs, err := strconv.Atoi(h.Get("Retry-After")); err != nil || secs < 0 {
						t.Errorf("Retry-After = %q, want whole seconds", h.Get("Retry-After"))
					}
				}
				// The faulty models have one backend, which failed.
				if tt.status == 429 || tt.status >= 500 {
					if got := h.Get("SPASS-Fallback-Count"); got != "1" {
						t.Errorf("SPASS-Fallback-Count = %q on a failed one-backend chain, want 1", got)
					}
				}
			})
		}
	})
}

// accumulate drains a chat stream into an accumulator.
func accumulate(t *testing.T, stream interface {
	Next() bool
	Current() openai.ChatCompletionChunk
	Err() error
	Close() error
}) openai.ChatCompletionAccumulator {
	t.Helper()
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		if chunk := stream.Current(); !acc.AddChunk(chunk) {
			t.Fatalf("accumulator rejected chunk %s", chunk.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// checkWeatherCall checks a get_weather call made for weatherPrompt.
func checkWeatherCall(t *testing.T, id, name, arguments string) {
	t.Helper()
	if id == "" || name != "get_weather" {
		t.Errorf("tool call id %q name %q, want an id and get_weather", id, name)
	}
	var args struct {
		City string `json:"city"`
	}
	if err := json.Unmarshal([]byte(arguments), &args); err != nil || args.City != "Rome" {
		t.Errorf("arguments %q (err %v), want {\"city\":\"Rome\"}", arguments, err)
	}
}

// tinyPNG returns a 2x2 PNG as a data: URL.
func tinyPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	img.Set(1, 1, color.RGBA{B: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}
