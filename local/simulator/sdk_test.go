package simulator

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// The official SDK is the strictest everyday client of the wire format, so
// round-tripping through it guards compatibility beyond the schemas.
func TestOpenAISDK(t *testing.T) {
	_, ts := start(t, Options{APIKey: "sk-sim"})
	client := openai.NewClient(
		option.WithBaseURL(ts.URL+"/v1"),
		option.WithAPIKey("sk-sim"),
		option.WithHTTPClient(ts.Client()),
		option.WithMaxRetries(0),
	)
	ctx := context.Background()

	t.Run("chat", func(t *testing.T) {
		params := openai.ChatCompletionNewParams{
			Model:         "sim-chat",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("from the sdk")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		}
		whole, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if got := whole.Choices[0].Message.Content; got != "Hello! You said: from the sdk" {
			t.Errorf("content = %q", got)
		}

		stream := client.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if got := acc.Choices[0].Message.Content; got != whole.Choices[0].Message.Content {
			t.Errorf("streamed content = %q, want %q", got, whole.Choices[0].Message.Content)
		}
		if acc.Usage.TotalTokens != whole.Usage.TotalTokens || acc.Usage.TotalTokens == 0 {
			t.Errorf("streamed usage %+v, want %+v", acc.Usage, whole.Usage)
		}
	})

	t.Run("tool call stream", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(`get_weather {"city":"Rome"}`)},
			Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
				Name:       "get_weather",
				Parameters: shared.FunctionParameters(weatherParams),
			})},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		calls := acc.Choices[0].Message.ToolCalls
		if len(calls) != 1 || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"city":"Rome"}` {
			t.Errorf("tool calls = %+v", calls)
		}
		if acc.Choices[0].FinishReason != "tool_calls" {
			t.Errorf("finish_reason = %q", acc.Choices[0].FinishReason)
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		resp, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "sim-embed",
			Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != 2 || len(resp.Data[1].Embedding) != 8 || resp.Data[1].Index != 1 {
			t.Errorf("embeddings = %+v", resp.Data)
		}
	})
}
