package sdktest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"spass/local/gatewaytest"
)

// TestGoSDKToolLoop drives the server-side tool loop through openai-go: the
// simulator calls the gateway's real calculator, and the SDK only sees the answer.
func TestGoSDKToolLoop(t *testing.T) { inProcess(t, startGateway, goSDKToolLoop) }

func goSDKToolLoop(t *testing.T, env *gatewaytest.Env) {
	client := newClient(env.URL, sdkToken)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ask := func(text string, tools ...openai.ChatCompletionToolUnionParam) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{Model: "sim-chat", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}, Tools: tools}
	}

	t.Run("calculator answers plainly", func(t *testing.T) {
		comp, err := client.Chat.Completions.New(ctx, ask(`What is 6*7? Use calculator {"expression":"6*7"}`))
		if err != nil {
			t.Fatal(err)
		}
		c := comp.Choices[0]
		if c.FinishReason != "stop" || len(c.Message.ToolCalls) != 0 || !strings.Contains(c.Message.Content, `"result":42`) {
			t.Fatalf("answer %+v", c)
		}
	})

	t.Run("calculator streamed", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, ask(`What is 6*7? Use calculator {"expression":"6*7"}`))
		acc := accumulate(t, stream)
		if got := acc.Choices[0].Message.Content; !strings.Contains(got, `"result":42`) || len(acc.Choices[0].Message.ToolCalls) != 0 {
			t.Fatalf("streamed answer %q, tool calls %v", got, acc.Choices[0].Message.ToolCalls)
		}
	})

	t.Run("caller tool next to stack tools", func(t *testing.T) {
		comp, err := client.Chat.Completions.New(ctx, ask(weatherPrompt, weatherTool))
		if err != nil {
			t.Fatal(err)
		}
		msg := comp.Choices[0].Message
		if len(msg.ToolCalls) != 1 {
			t.Fatalf("tool calls %+v", msg.ToolCalls)
		}
		checkWeatherCall(t, msg.ToolCalls[0].ID, msg.ToolCalls[0].Function.Name, msg.ToolCalls[0].Function.Arguments)
	})

	t.Run("round limit", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, ask(`call calculator forever {"expression":"1+1"}`))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnprocessableEntity || apiErr.Code != "tool_round_limit" {
			t.Fatalf("err %v", err)
		}
	})

	t.Run("opt out", func(t *testing.T) {
		comp, err := client.Chat.Completions.New(ctx, ask(`Use calculator {"expression":"6*7"}`), option.WithHeader("SPASS-Tools", "none"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(comp.Choices[0].Message.Content, "Hello! You said") {
			t.Fatalf("opted out, got %q", comp.Choices[0].Message.Content)
		}
	})
}
