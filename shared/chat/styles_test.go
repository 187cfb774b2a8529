package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/chat"
)

// startStyles runs a gateway with one simulator per tool style (see
// gatewaytest.ToolStyles) and the stack tool add.
func startStyles(t *testing.T) *gatewaytest.Env {
	t.Helper()
	st := gatewaytest.ToolStyles()
	env := gatewaytest.Start(t, gatewaytest.Setup{
		Sims:      append([]string{"sim"}, st.Sims...),
		SimStyles: st.SimStyles,
		YAML: "backends:\n  - {name: sim, kind: simulator, base_url: \"{{sim}}\"}\n" + st.Backends +
			"models:\n  - {id: sim-chat, chain: [{backend: sim}]}\n" + st.Models,
	})
	withAdd(t, env)
	return env
}

const callerTools = `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},` +
	`{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]`

// styleBody asks model for prompt with extra fields.
func styleBody(model, prompt, extra string) string {
	p, _ := json.Marshal(prompt)
	return `{"model":"` + model + `","messages":[{"role":"user","content":` + string(p) + `}]` + extra + `}`
}

// call is a tool call as a client accumulates it.
type call struct{ ID, Type, Name, Args string }

// strictRead reads an SSE body as a strict SDK does: every event valid JSON,
// tool-call deltas with an integer index, arguments strings, names appended.
func strictRead(t *testing.T, body io.Reader) (content string, calls []call, finish string) {
	t.Helper()
	raw, _ := io.ReadAll(body)
	for _, e := range strings.Split(string(raw), "\n\n") {
		data, ok := strings.CutPrefix(e, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		if !gjson.Valid(data) {
			t.Fatalf("invalid event %q", data)
		}
		if gjson.Get(data, "error").Exists() {
			t.Fatalf("error event %s", data)
		}
		ch := gjson.Get(data, "choices.0")
		content += ch.Get("delta.content").Str
		ch.Get("delta.tool_calls").ForEach(func(_, d gjson.Result) bool {
			idx := d.Get("index")
			if idx.Type != gjson.Number || idx.Raw != fmt.Sprint(idx.Int()) {
				t.Fatalf("delta without an integer index: %s", data)
			}
			for len(calls) <= int(idx.Int()) {
				calls = append(calls, call{})
			}
			c := &calls[idx.Int()]
			if d.Get("id").Str != "" {
				c.ID = d.Get("id").Str
			}
			if d.Get("type").Str != "" {
				c.Type = d.Get("type").Str
			}
			if a := d.Get("function.arguments"); a.Exists() && a.Type != gjson.String {
				t.Fatalf("arguments not a string: %s", data)
			}
			c.Name += d.Get("function.name").Str
			c.Args += d.Get("function.arguments").Str
			return true
		})
		if f := ch.Get("finish_reason"); f.Type == gjson.String {
			finish = f.Str
		}
	}
	return content, calls, finish
}

// checkCallerCalls checks the two calls of "get_weather and get_time".
func checkCallerCalls(t *testing.T, calls []call, finish string) {
	t.Helper()
	if len(calls) != 2 || finish != "tool_calls" {
		t.Fatalf("calls %+v finish %q", calls, finish)
	}
	for i, want := range []string{"get_weather", "get_time"} {
		c := calls[i]
		if c.Name != want || c.Type != "function" || c.ID == "" || !gjson.Valid(c.Args) || !gjson.Parse(c.Args).IsObject() {
			t.Fatalf("call %d: %+v", i, c)
		}
	}
	if calls[0].ID == calls[1].ID {
		t.Fatalf("both calls have the id %s", calls[0].ID)
	}
	if !gjson.Get(calls[0].Args, "city").Exists() {
		t.Fatalf("get_weather arguments %s", calls[0].Args)
	}
}

// TestToolStylesReachClientsNormalised: whatever the backend's style, a client
// gets OpenAI's shape, streamed or not, through the plain relay (no stack
// tools) and through the tool loop (stack tools offered too).
func TestToolStylesReachClientsNormalised(t *testing.T) {
	env := startStyles(t)
	const prompt = "Use get_weather and get_time"
	for _, st := range simulator.ToolStyles() {
		model := gatewaytest.StyleModel(st)
		for _, loop := range []bool{false, true} {
			name := fmt.Sprintf("%s loop=%v", model, loop)
			header := "none"
			if loop {
				header = "add"
			}
			t.Run(name+" stream", func(t *testing.T) {
				req := env.Request(t, "POST", "/v1/chat/completions", styleBody(model, prompt, callerTools+`,"stream":true`))
				req.Header.Set(chat.HeaderTools, header)
				resp := gatewaytest.Do(t, req)
				defer resp.Body.Close()
				content, calls, finish := strictRead(t, resp.Body)
				if content != "" {
					t.Fatalf("content %q", content)
				}
				checkCallerCalls(t, calls, finish)
			})
			t.Run(name, func(t *testing.T) {
				req := env.Request(t, "POST", "/v1/chat/completions", styleBody(model, prompt, callerTools))
				req.Header.Set(chat.HeaderTools, header)
				resp := gatewaytest.Do(t, req)
				defer resp.Body.Close()
				var c struct {
					Choices []struct {
						Message struct {
							Content   *string
							ToolCalls []struct {
								ID, Type string
								Function struct{ Name, Arguments string }
							} `json:"tool_calls"`
						}
						FinishReason string `json:"finish_reason"`
					}
				}
				if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %v", resp.StatusCode, err)
				}
				ch := c.Choices[0]
				var calls []call
				for _, tc := range ch.Message.ToolCalls {
					calls = append(calls, call{tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments})
				}
				if ch.Message.Content != nil && *ch.Message.Content != "" {
					t.Fatalf("content %q", *ch.Message.Content)
				}
				checkCallerCalls(t, calls, ch.FinishReason)
			})
		}
	}
}

// TestToolStylesRunTheStackTools: the stack-tool loop runs a stack tool the
// backend called in its own style, streamed or not.
func TestToolStylesRunTheStackTools(t *testing.T) {
	env := startStyles(t)
	for _, st := range simulator.ToolStyles() {
		model := gatewaytest.StyleModel(st)
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s stream=%v", model, stream), func(t *testing.T) {
				extra := ""
				if stream {
					extra = `,"stream":true`
				}
				req, err := chat.ParseChat([]byte(styleBody(model, `add {"a":2,"b":3}`, extra)))
				if err != nil {
					t.Fatal(err)
				}
				var steps []chat.Step
				res, err := env.App.Chat.Complete(context.Background(), alice, req, chat.Options{OnStep: func(s chat.Step) { steps = append(steps, s) }}, &chat.Memory{})
				if err != nil {
					t.Fatal(err)
				}
				reply := res.Reply()
				if len(steps) != 1 || steps[0].Tool != "add" || gjson.GetBytes(steps[0].Result, "sum").Int() != 5 {
					t.Fatalf("steps %+v", steps)
				}
				if !strings.Contains(reply.Message.Content, `"sum":5`) || len(reply.Message.ToolCalls) != 0 || reply.FinishReason != "stop" {
					t.Fatalf("reply %+v", reply)
				}
			})
		}
	}
}
