package chat_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/shared/chat"
	"spass/shared/tools"
)

// TestCoreOffersOnlyAvailableTools: a stack tool whose Available says no (rag_query
// for a tenant without an index) is not offered, so the model cannot call it.
func TestCoreOffersOnlyAvailableTools(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	reg := tools.NewRegistry()
	var asked []tools.Call
	err := reg.Add(tools.Tool{
		Name: "add", Description: "Adds two numbers.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
		Available: func(_ context.Context, c tools.Call) bool {
			asked = append(asked, c)
			return c.Agent != ""
		},
		Execute: func(ctx context.Context, c tools.Call, args json.RawMessage) (any, error) {
			var in struct{ A, B float64 }
			json.Unmarshal(args, &in)
			return map[string]any{"sum": in.A + in.B}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.App.Chat.Tools, env.App.Chat.MaxRounds, env.App.Chat.ToolTimeout = reg, 3, 5*time.Second
	b := body(`please add {"a":2,"b":3}`, "")
	if res, _ := complete(t, env, b, chat.Options{}); strings.Contains(res.Reply().Message.Content, "sum") {
		t.Fatalf("an unavailable tool ran: %+v", res.Reply())
	}
	res, _ := complete(t, env, b, chat.Options{Surface: chat.SurfaceA1, Agent: "helper", Session: "s1"})
	if !strings.Contains(res.Reply().Message.Content, `"sum":5`) {
		t.Fatalf("an available tool did not run: %+v", res.Reply())
	}
	if len(asked) < 2 || asked[len(asked)-1].Tenant != "acme" || asked[len(asked)-1].Session != "s1" {
		t.Fatalf("Available was asked with %+v", asked)
	}
}
