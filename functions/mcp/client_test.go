package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"spass/local/gatewaytest"
)

// stdioEnv marks the test binary started as a stdio MCP server (see TestMain).
const stdioEnv = "SPASS_TEST_MCP_STDIO"

func TestMain(m *testing.M) {
	if os.Getenv(stdioEnv) == "1" {
		s := toolServer("stdio")
		if err := s.Run(context.Background(), &sdk.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type lookupIn struct {
	Topic string `json:"topic" jsonschema:"what to look up"`
}

// toolServer is an MCP server of the SDK with one tool, lookup, whose answer
// names the server, so a test sees which one the model reached.
func toolServer(name string) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "test-" + name, Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "lookup", Description: "Looks a topic up in the team's notes."},
		func(ctx context.Context, req *sdk.CallToolRequest, in lookupIn) (*sdk.CallToolResult, any, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "notes(" + name + "): " + in.Topic + " ships on Fridays"}}}, nil, nil
		})
	return s
}

// httpToolServer serves toolServer over Streamable HTTP and counts requests that
// carry the expected bearer token (the config names it by ${env:DOCS_TOKEN}).
func httpToolServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var authed atomic.Int64
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return toolServer("http") }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer docs-secret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &authed
}

// startWithMCP runs a gateway whose tool loop knows the HTTP server as "docs" and
// the stdio server (this test binary) as "local".
func startWithMCP(t *testing.T, url string) *gatewaytest.Env {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	yaml := gatewaytest.DefaultYAML + `mcp:
  servers:
    - {name: docs, url: "` + url + `", headers: {Authorization: "Bearer ${env:DOCS_TOKEN}"}, timeout: 5s}
    - {name: local, command: "` + exe + `", env: {` + stdioEnv + `: "1"}, timeout: 5s}
`
	return gatewaytest.Start(t, gatewaytest.Setup{YAML: yaml, Sims: []string{"sim"}, Env: map[string]string{"DOCS_TOKEN": "docs-secret"}})
}

func chatBody(prompt, extra string) string {
	b, _ := json.Marshal(prompt)
	return `{"model":"sim-chat","messages":[{"role":"user","content":` + string(b) + `}]` + extra + `}`
}

// answer sends a chat and returns its status and the assistant's text (the
// streamed deltas joined for a stream).
func answer(t *testing.T, env *gatewaytest.Env, prompt string, stream bool) (int, string) {
	t.Helper()
	extra := ""
	if stream {
		extra = `,"stream":true`
	}
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", chatBody(prompt, extra)))
	b, _ := io.ReadAll(resp.Body)
	if !stream {
		var out struct {
			Choices []struct{ Message struct{ Content string } }
		}
		json.Unmarshal(b, &out)
		if len(out.Choices) == 0 {
			return resp.StatusCode, string(b)
		}
		return resp.StatusCode, out.Choices[0].Message.Content
	}
	var text strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ch struct {
			Choices []struct{ Delta struct{ Content string } }
			Error   any
		}
		json.Unmarshal([]byte(data), &ch)
		if ch.Error != nil {
			t.Fatalf("stream error: %s", data)
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	return resp.StatusCode, text.String()
}

func TestMCPToolsInTheToolLoop(t *testing.T) {
	srv, authed := httpToolServer(t)
	env := startWithMCP(t, srv.URL)

	// GET /v1/tools lists both servers' tools, namespaced.
	resp := gatewaytest.Do(t, env.Request(t, "GET", "/v1/tools", ""))
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"docs__lookup"`) || !strings.Contains(string(b), `"local__lookup"`) {
		t.Fatalf("/v1/tools: %s", b)
	}

	for _, stream := range []bool{false, true} {
		status, text := answer(t, env, `what do the notes say? docs__lookup {"topic":"the release"}`, stream)
		if status != 200 || !strings.Contains(text, "notes(http): the release ships on Fridays") {
			t.Fatalf("stream=%v: %d %q", stream, status, text)
		}
		status, text = answer(t, env, `local__lookup {"topic":"the demo"}`, stream)
		if status != 200 || !strings.Contains(text, "notes(stdio): the demo ships on Fridays") {
			t.Fatalf("stdio, stream=%v: %d %q", stream, status, text)
		}
	}
	// /c1 and an agent's turn offer them too; the agent names the tool in its tools.
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/c1/chat", `{"message":"docs__lookup {\"topic\":\"c1\"}"}`))
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.Contains(string(b), "notes(http): c1 ships") {
		t.Fatalf("/c1: %d %s", resp.StatusCode, b)
	}
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/a1/agents", `{"name":"notes","model":"sim-chat","tools":["docs__lookup"]}`))
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 201 {
		t.Fatalf("agent: %d %s", resp.StatusCode, b)
	}
	var sess struct{ ID string }
	json.NewDecoder(gatewaytest.Do(t, env.Request(t, "POST", "/a1/agents/notes/sessions", "")).Body).Decode(&sess)
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/a1/sessions/"+sess.ID+"/messages", `{"content":"docs__lookup {\"topic\":\"a1\"}"}`))
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.Contains(string(b), `"tool":"docs__lookup"`) || !strings.Contains(string(b), "notes(http): a1 ships") {
		t.Fatalf("agent turn: %d %s", resp.StatusCode, b)
	}
	if authed.Load() == 0 {
		t.Fatal("the HTTP server never saw the configured bearer token")
	}
	// The rounds that ran MCP tools are billed as sub-calls of their requests.
	subs := 0
	for _, r := range env.Ledger(t, "acme") {
		if r.Route == "chat.tool_round" && r.ParentRequestID != "" {
			subs++
		}
	}
	if subs != 6 {
		t.Fatalf("%d tool rounds billed, want 6", subs)
	}

	// The HTTP server goes down: the call fails as a tool error the model reads,
	// the chat still answers, and the next chat is no longer offered its tools.
	srv.CloseClientConnections()
	srv.Close()
	status, text := answer(t, env, `docs__lookup {"topic":"the outage"}`, false)
	if status != 200 || !strings.Contains(text, "tool_unavailable") {
		t.Fatalf("down: %d %q", status, text)
	}
	for _, stream := range []bool{false, true} {
		status, text = answer(t, env, `docs__lookup {"topic":"the outage"}`, stream)
		if status != 200 || strings.Contains(text, "notes(http)") {
			t.Fatalf("after down, stream=%v: %d %q", stream, status, text)
		}
		if sent := string(env.Sims["sim"].LastRequest()); strings.Contains(sent, `"name":"docs__lookup"`) {
			t.Fatalf("a down server's tool was offered: %s", sent)
		}
	}
	// The stdio server still serves.
	if status, text := answer(t, env, `local__lookup {"topic":"the fix"}`, false); status != 200 || !strings.Contains(text, "notes(stdio)") {
		t.Fatalf("stdio after the outage: %d %q", status, text)
	}

	// /readyz: degraded, still ready, no server name; /statsz and /metrics name it.
	ready := gatewaytest.Do(t, env.Request(t, "GET", "/readyz", ""))
	rb, _ := io.ReadAll(ready.Body)
	if ready.StatusCode != 200 || !strings.Contains(string(rb), `"mcp_server_unreachable"`) || !strings.Contains(string(rb), `"ready":true`) || strings.Contains(string(rb), "docs") {
		t.Fatalf("/readyz %d %s", ready.StatusCode, rb)
	}
	req := env.Request(t, "GET", "/statsz", "")
	req.Header.Set("Authorization", "Bearer "+gatewaytest.OperatorToken)
	sb, _ := io.ReadAll(gatewaytest.Do(t, req).Body)
	var st struct {
		MCP []struct {
			Name   string
			Up     bool
			Reason string
			Tools  int
		} `json:"mcp_servers"`
	}
	json.Unmarshal(sb, &st)
	if len(st.MCP) != 2 || st.MCP[0].Name != "docs" || st.MCP[0].Up || st.MCP[0].Reason != "call_failed" || !st.MCP[1].Up || st.MCP[1].Tools != 1 {
		t.Fatalf("/statsz mcp_servers: %s", sb)
	}
	req = env.Request(t, "GET", "/metrics", "")
	req.Header.Set("Authorization", "Bearer "+gatewaytest.MetricsToken)
	mb, _ := io.ReadAll(gatewaytest.Do(t, req).Body)
	for _, want := range []string{`spass_mcp_server_up{server="docs",tenant=""} 0`, `spass_mcp_server_up{server="local",tenant=""} 1`,
		`spass_mcp_tool_calls_total{outcome="ok",server="docs"} 4`, `spass_mcp_tool_calls_total{outcome="unavailable",server="docs"} 1`} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A tenant's own MCP server serves that tenant alone, and the tenant's setting
// mcp.servers switches servers off.
func TestMCPServersPerTenant(t *testing.T) {
	srv, _ := httpToolServer(t)
	yaml := gatewaytest.DefaultYAML
	env := gatewaytest.Start(t, gatewaytest.Setup{YAML: yaml, Sims: []string{"sim"}, Env: map[string]string{"DOCS_TOKEN": "docs-secret"},
		AcmeDefaults: "{}\n    mcp_servers: [{name: crm, url: \"" + srv.URL + "\", headers: {Authorization: \"Bearer ${env:DOCS_TOKEN}\"}}]"})
	list := func(token string) string {
		req := env.Request(t, "GET", "/v1/tools", "")
		req.Header.Set("Authorization", "Bearer "+token)
		b, _ := io.ReadAll(gatewaytest.Do(t, req).Body)
		return string(b)
	}
	if !strings.Contains(list(gatewaytest.AdminToken), `"crm__lookup"`) {
		t.Fatal("acme does not see its server's tool")
	}
	if strings.Contains(list(gatewaytest.OtherToken), "crm__") {
		t.Fatal("globex sees acme's server")
	}
	// globex can neither run it through /v1/tools/execute nor have its model call it.
	req := env.Request(t, "POST", "/v1/tools/execute", `{"name":"crm__lookup","arguments":{"topic":"x"}}`)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.OtherToken)
	if resp := gatewaytest.Do(t, req); resp.StatusCode != 403 {
		t.Fatalf("globex runs acme's tool: %d", resp.StatusCode)
	}
	req = env.Request(t, "POST", "/v1/chat/completions", chatBody(`crm__lookup {"topic":"acme's pipeline"}`, ""))
	req.Header.Set("Authorization", "Bearer "+gatewaytest.OtherToken)
	b, _ := io.ReadAll(gatewaytest.Do(t, req).Body)
	if strings.Contains(string(b), "notes(http)") {
		t.Fatalf("globex's chat reached acme's server: %s", b)
	}
	// acme runs it directly, then switches its servers off.
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/tools/execute", `{"name":"crm__lookup","arguments":{"topic":"the pipeline"}}`))
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.Contains(string(b), "notes(http): the pipeline") {
		t.Fatalf("execute: %d %s", resp.StatusCode, b)
	}
	if resp := gatewaytest.Do(t, env.Request(t, "PUT", "/v1/tenant/config", `{"mcp.servers":[]}`)); resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("set mcp.servers: %d %s", resp.StatusCode, b)
	}
	if strings.Contains(list(gatewaytest.AdminToken), "crm__") {
		t.Fatal("a server switched off by the tenant is still listed")
	}
}
