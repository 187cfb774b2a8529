package openai_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/shared/tools"
)

// startWithTools runs the default gateway with one stack tool, add, that sums a and b.
func startWithTools(t *testing.T) *gatewaytest.Env {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	withAdd(t, env)
	return env
}

// withAdd gives env's gateway one stack tool, add.
func withAdd(t *testing.T, env *gatewaytest.Env) {
	reg := tools.NewRegistry()
	err := reg.Add(tools.Tool{
		Name: "add", Description: "Adds two numbers.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"],"additionalProperties":false}`),
		Execute: func(ctx context.Context, p tools.Call, args json.RawMessage) (any, error) {
			var in struct{ A, B float64 }
			json.Unmarshal(args, &in)
			return map[string]float64{"sum": in.A + in.B}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.App.Chat.Tools, env.App.Chat.MaxRounds, env.App.Chat.ToolTimeout = reg, 3, 5*time.Second
}

const weatherTool = `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}`

func chatBody(prompt string, extra string) string {
	b, _ := json.Marshal(prompt)
	return `{"model":"sim-chat","messages":[{"role":"user","content":` + string(b) + `}]` + extra + `}`
}

func TestToolLoopRunsStackToolsServerSide(t *testing.T) {
	env := startWithTools(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`please add {"a":2,"b":3}`, "")))
	var out struct {
		Choices []struct {
			Message struct {
				Content   string
				ToolCalls []any `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			TotalTokens int64 `json:"total_tokens"`
		}
	}
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || !strings.Contains(out.Choices[0].Message.Content, `"sum":5`) || out.Choices[0].FinishReason != "stop" || len(out.Choices[0].Message.ToolCalls) != 0 {
		t.Fatalf("status %d answer %+v", resp.StatusCode, out)
	}
	if n := env.Sims["sim"].Requests(); n != 2 {
		t.Fatalf("%d upstream rounds, want 2", n)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 2 || rows[0].Route != "chat.tool_round" || rows[0].ParentRequestID != resp.Header.Get("SPASS-Request-Id") || rows[1].Route != "chat" {
		t.Fatalf("ledger %+v", rows)
	}
	if got := rows[0].PromptTokens + rows[0].CompletionTokens + rows[1].PromptTokens + rows[1].CompletionTokens; got != out.Usage.TotalTokens {
		t.Errorf("client usage %d, ledger %d", out.Usage.TotalTokens, got)
	}
}

func TestToolLoopStreamShowsOnlyTheAnswer(t *testing.T) {
	env := startWithTools(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions",
		chatBody(`please add {"a":2,"b":3}`, `,"stream":true,"stream_options":{"include_usage":true}`)))
	events := sseEvents(t, resp.Body)
	if events[len(events)-1] != "[DONE]" || !strings.Contains(content(t, events), `"sum":5`) {
		t.Fatalf("events %v", events)
	}
	for _, e := range events {
		if strings.Contains(e, "tool_calls") {
			t.Fatalf("a stack tool call leaked into the stream: %s", e)
		}
	}
	if !strings.Contains(events[len(events)-2], `"total_tokens"`) {
		t.Errorf("usage chunk missing: %s", events[len(events)-2])
	}
}

func TestCallerToolsGoBackToTheClient(t *testing.T) {
	env := startWithTools(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`weather? get_weather {"city":"Oslo"}`, `,"tools":[`+weatherTool+`]`)))
	var out struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
	}
	readJSON(t, resp.Body, &out)
	if c := out.Choices[0]; c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("answer %+v", out)
	}
	sent := string(env.Sims["sim"].LastRequest())
	if !strings.Contains(sent, `"name":"add"`) || !strings.Contains(sent, `"name":"get_weather"`) {
		t.Fatalf("upstream tools: %s", sent)
	}
	// Streamed, the caller's tool call arrives as OpenAI streams it.
	events := sseEvents(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions",
		chatBody(`weather? get_weather {"city":"Oslo"}`, `,"stream":true,"tools":[`+weatherTool+`]`))).Body)
	joined := strings.Join(events, "\n")
	if !strings.Contains(joined, `"get_weather"`) || !strings.Contains(joined, `"finish_reason":"tool_calls"`) || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream %v", events)
	}
}

func TestMixedTurnRunsStackToolsAndDropsCallerCalls(t *testing.T) {
	env := startWithTools(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`add and get_weather please`, `,"tools":[`+weatherTool+`]`)))
	b := readAll(t, resp)
	if resp.StatusCode != 200 || strings.Contains(b, `"tool_calls"`) || !strings.Contains(b, "The result is") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestToolRoundLimit(t *testing.T) {
	env := startWithTools(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`call add forever {"a":1,"b":1}`, "")))
	expectError(t, resp, 422, "tool_round_limit")
	// A stream has started by then: the limit ends it with an error event.
	events := sseEvents(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`call add forever {"a":1,"b":1}`, `,"stream":true`))).Body)
	if last := events[len(events)-1]; !strings.Contains(last, `"code":"tool_round_limit"`) {
		t.Fatalf("stream ended with %q", last)
	}
	if n := env.Sims["sim"].Requests(); n != 8 {
		t.Fatalf("%d upstream rounds, want 2×(3 tool rounds + the refused 4th)", n)
	}
}

func TestBadToolArgumentsGoBackToTheModel(t *testing.T) {
	env := startWithTools(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`add {"a":"two","b":3}`, "")))
	b := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(b, "invalid_arguments") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestStackToolsOptOut(t *testing.T) {
	env := startWithTools(t)
	req := env.Request(t, "POST", "/v1/chat/completions", chatBody(`please add {"a":2,"b":3}`, ""))
	req.Header.Set("SPASS-Tools", "none")
	if b := readAll(t, gatewaytest.Do(t, req)); !strings.Contains(b, "Hello! You said") {
		t.Fatalf("opted out, yet %s", b)
	}
	if strings.Contains(string(env.Sims["sim"].LastRequest()), `"add"`) {
		t.Fatal("stack tools injected despite SPASS-Tools: none")
	}
	put := env.Request(t, "PUT", "/v1/tenant/config", `{"tools.allowlist": []}`)
	if resp := gatewaytest.Do(t, put); resp.StatusCode != 200 {
		t.Fatalf("PUT %d", resp.StatusCode)
	}
	gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(`please add {"a":2,"b":3}`, "")))
	if strings.Contains(string(env.Sims["sim"].LastRequest()), `"add"`) {
		t.Fatal("stack tools injected though the tenant allows none")
	}
}
