package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// timeTool is a caller tool without parameters, for the second of two calls.
var timeTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:       "get_time",
	Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{}},
})

// twoCallsPrompt makes the simulator call get_weather and get_time.
const twoCallsPrompt = "Use get_weather and get_time"

// checkTwoCalls checks the calls of twoCallsPrompt as the SDK read them.
func checkTwoCalls(t *testing.T, calls []openai.ChatCompletionMessageToolCallUnion, finish string) {
	t.Helper()
	if len(calls) != 2 || finish != "tool_calls" {
		t.Fatalf("finish %q, calls %+v", finish, calls)
	}
	for i, name := range []string{"get_weather", "get_time"} {
		c := calls[i]
		var args map[string]any
		if c.ID == "" || c.Type != "function" || c.Function.Name != name || json.Unmarshal([]byte(c.Function.Arguments), &args) != nil {
			t.Fatalf("call %d: id %q type %q name %q arguments %q", i, c.ID, c.Type, c.Function.Name, c.Function.Arguments)
		}
	}
	if calls[0].ID == calls[1].ID {
		t.Fatalf("both calls have the id %q", calls[0].ID)
	}
}

// TestGoSDKToolStyles: for every tool style of local backends, openai-go's
// ChatCompletionAccumulator reads the right calls from the gateway's stream
// (plain relay and tool loop), the non-streamed answer has them too, and the
// stack-tool loop runs the calculator the backend called in that style.
func TestGoSDKToolStyles(t *testing.T) { inProcess(t, startGateway, goSDKToolStyles) }

func goSDKToolStyles(t *testing.T, env *gatewaytest.Env) {
	client := newClient(env.URL, sdkToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, st := range simulator.ToolStyles() {
		model := gatewaytest.StyleModel(st)
		params := openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(twoCallsPrompt)},
			Tools: []openai.ChatCompletionToolUnionParam{weatherTool, timeTool}}
		for _, stack := range []string{"none", ""} {
			opt := option.WithHeader("SPASS-Tools", stack)
			t.Run(model+" accumulator stack="+stack, func(t *testing.T) {
				acc := accumulate(t, client.Chat.Completions.NewStreaming(ctx, params, opt))
				checkTwoCalls(t, acc.Choices[0].Message.ToolCalls, acc.Choices[0].FinishReason)
			})
			t.Run(model+" answer stack="+stack, func(t *testing.T) {
				comp, err := client.Chat.Completions.New(ctx, params, opt)
				if err != nil {
					t.Fatal(err)
				}
				checkTwoCalls(t, comp.Choices[0].Message.ToolCalls, comp.Choices[0].FinishReason)
			})
		}
		calc := openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{
			openai.UserMessage(`What is 6*7? Use calculator {"expression":"6*7"}`)}}
		t.Run(model+" stack tool streamed", func(t *testing.T) {
			acc := accumulate(t, client.Chat.Completions.NewStreaming(ctx, calc))
			if m := acc.Choices[0].Message; !strings.Contains(m.Content, `"result":42`) || len(m.ToolCalls) != 0 || acc.Choices[0].FinishReason != "stop" {
				t.Fatalf("answer %q, calls %v, finish %q", m.Content, m.ToolCalls, acc.Choices[0].FinishReason)
			}
		})
		t.Run(model+" stack tool", func(t *testing.T) {
			comp, err := client.Chat.Completions.New(ctx, calc)
			if err != nil {
				t.Fatal(err)
			}
			if m := comp.Choices[0].Message; !strings.Contains(m.Content, `"result":42`) || len(m.ToolCalls) != 0 {
				t.Fatalf("answer %q, calls %v", m.Content, m.ToolCalls)
			}
		})
	}
}

// TestGoSDKHalfWrittenEvent: a backend stream with a half-written event reaches
// openai-go as a stream that ends in a clean error naming the catalog code,
// after the text that came before it.
func TestGoSDKHalfWrittenEvent(t *testing.T) { inProcess(t, startGateway, goSDKHalfWrittenEvent) }

func goSDKHalfWrittenEvent(t *testing.T, env *gatewaytest.Env) {
	client := newClient(env.URL, sdkToken)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	params := openai.ChatCompletionNewParams{Model: modelHalf, Messages: []openai.ChatCompletionMessageParamUnion{
		openai.UserMessage("one two three four five six seven")}}
	for _, stack := range []string{"none", ""} {
		t.Run("stack="+stack, func(t *testing.T) {
			stream := client.Chat.Completions.NewStreaming(ctx, params, option.WithHeader("SPASS-Tools", stack))
			defer stream.Close()
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("accumulator rejected %s", stream.Current().RawJSON())
				}
			}
			err := stream.Err()
			if err == nil || !strings.Contains(err.Error(), "stream_invalid_event") {
				t.Fatalf("stream error %v, want one naming stream_invalid_event", err)
			}
			if got := acc.Choices[0].Message.Content; got != "Hello! You said: " {
				t.Fatalf("content before the error %q", got)
			}
		})
	}
	t.Run("not streamed", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, params)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || apiErr.Code == "" {
			t.Fatalf("err %v", err)
		}
	})
}
