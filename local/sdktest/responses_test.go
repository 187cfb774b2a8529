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
	"github.com/openai/openai-go/v3/responses"

	"spass/local/gatewaytest"
)

// responsesYAML serves sim-chat from a backend that speaks only Chat Completions
// and native-chat from one of a kind that serves the Responses API itself (vLLM,
// played by a simulator).
const responsesYAML = `
backends:
  - {name: chatonly, kind: simulator, base_url: "{{chatonly}}"}
  - {name: native, kind: vllm, base_url: "{{native}}"}
models:
  - {id: sim-chat, chain: [{backend: chatonly}]}
  - {id: native-chat, chain: [{backend: native, model: sim-chat}]}
`

func startResponsesGateway(t *testing.T, start starter) *gatewaytest.Env {
	return start(t, gatewaytest.Setup{Sims: []string{"chatonly", "native"}, YAML: responsesYAML})
}

// TestGoSDKResponses drives client.Responses of openai-go: plain, streamed, a
// function tool's round trip, previous_response_id, against a Chat-Completions-only
// backend; the same against a native backend; and another user's id read as 404.
func TestGoSDKResponses(t *testing.T) { inProcess(t, startResponsesGateway, goSDKResponses) }

func goSDKResponses(t *testing.T, env *gatewaytest.Env) {
	client := newClient(env.URL, sdkToken, option.WithHeader("SPASS-Tools", "none"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	text := func(s string) responses.ResponseNewParamsInputUnion {
		return responses.ResponseNewParamsInputUnion{OfString: openai.String(s)}
	}

	for _, model := range []string{"sim-chat", "native-chat"} {
		t.Run(model, func(t *testing.T) {
			r, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: model, Input: text("Hello there"),
				Instructions: openai.String("Be brief."), MaxOutputTokens: openai.Int(64)})
			if err != nil {
				t.Fatal(err)
			}
			if r.OutputText() != "Hello! You said: Hello there" || r.Status != "completed" || r.Usage.TotalTokens == 0 || r.Model != model {
				t.Fatalf("response %s", r.RawJSON())
			}

			stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: model, Input: text("Stream this"),
				PreviousResponseID: openai.String(r.ID)})
			var deltas strings.Builder
			var types []string
			var done responses.Response
			for stream.Next() {
				ev := stream.Current()
				types = append(types, ev.Type)
				switch ev.Type {
				case "response.output_text.delta":
					deltas.WriteString(ev.Delta)
				case "response.completed":
					done = ev.Response
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if deltas.String() != "Hello! You said: Stream this" || done.OutputText() != deltas.String() || done.PreviousResponseID != r.ID {
				t.Fatalf("stream %v: %q %s", types, deltas.String(), done.RawJSON())
			}
			want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta"}
			if strings.Join(types[:5], " ") != strings.Join(want, " ") ||
				strings.Join(types[len(types)-4:], " ") != "response.output_text.done response.content_part.done response.output_item.done response.completed" {
				t.Errorf("event order %v", types)
			}
			// The stored conversation reached the backend as history.
			if sent := string(env.Sims[map[string]string{"sim-chat": "chatonly", "native-chat": "native"}[model]].LastRequest()); !strings.Contains(sent, "Hello there") {
				t.Errorf("history missing: %s", sent)
			}
			got, err := client.Responses.Get(ctx, done.ID, responses.ResponseGetParams{})
			if err != nil || got.OutputText() != deltas.String() {
				t.Fatalf("get: %v %s", err, got.RawJSON())
			}
		})
	}

	t.Run("function tool round trip", func(t *testing.T) {
		tool := responses.ToolParamOfFunction("get_weather", map[string]any{
			"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"},
		}, false)
		r, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "sim-chat",
			Input: text(`What is the weather in Rome? Use get_weather {"city":"Rome"}`), Tools: []responses.ToolUnionParam{tool}})
		if err != nil {
			t.Fatal(err)
		}
		var call responses.ResponseFunctionToolCall
		for _, it := range r.Output {
			if it.Type == "function_call" {
				call = it.AsFunctionCall()
			}
		}
		if call.Name != "get_weather" || call.Arguments != `{"city":"Rome"}` || call.CallID == "" {
			t.Fatalf("output %s", r.RawJSON())
		}
		out := responses.ResponseInputItemParamOfFunctionCallOutput("sunny, 24 C")
		out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "sim-chat", PreviousResponseID: openai.String(r.ID),
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{out}}, Tools: []responses.ToolUnionParam{tool}})
		var final responses.Response
		for stream.Next() {
			if ev := stream.Current(); ev.Type == "response.completed" {
				final = ev.Response
			}
		}
		if err := stream.Err(); err != nil || final.OutputText() != "The result is: sunny, 24 C" {
			t.Fatalf("%v %s", err, final.RawJSON())
		}
	})

	t.Run("streamed function call", func(t *testing.T) {
		tool := responses.ToolParamOfFunction("get_weather", map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, false)
		stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "sim-chat",
			Input: text(`weather? get_weather {"city":"Oslo"}`), Tools: []responses.ToolUnionParam{tool}})
		var args string
		var types []string
		for stream.Next() {
			ev := stream.Current()
			types = append(types, ev.Type)
			if ev.Type == "response.function_call_arguments.done" {
				args = ev.Arguments
			}
		}
		if stream.Err() != nil || args != `{"city":"Oslo"}` {
			t.Fatalf("%v %q %v", stream.Err(), args, types)
		}
	})

	t.Run("another user's response is not found", func(t *testing.T) {
		r, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "sim-chat", Input: text("mine")})
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range []openai.Client{
			newClient(env.URL, sdkToken, option.WithHeader("SPASS-User-Id", "bob")),
			newClient(env.URL, gatewaytest.OtherToken),
		} {
			_, err := other.Responses.Get(ctx, r.ID, responses.ResponseGetParams{})
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "response_not_found" {
				t.Errorf("get: %v", err)
			}
			if err := other.Responses.Delete(ctx, r.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
				t.Errorf("delete: %v", err)
			}
		}
		if err := client.Responses.Delete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	})
}
