package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"spass/local/gatewaytest"
)

// bearer adds the gateway's headers to an MCP client's requests.
type bearer struct {
	token, user string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	if b.user != "" {
		r.Header.Set("SPASS-User-Id", b.user)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens an MCP session of the SDK's client on the gateway's /mcp.
func connect(t *testing.T, env *gatewaytest.Env, token, user string) *sdk.ClientSession {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "ide", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: env.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token, user}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func names(t *testing.T, cs *sdk.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tl := range res.Tools {
		out = append(out, tl.Name)
	}
	return out
}

// call runs a tool and returns its text and whether it is an error.
func call(t *testing.T, cs *sdk.ClientSession, name, args string) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestGatewayAsMCPServer(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	admin := connect(t, env, gatewaytest.AdminToken, "alice")
	got := names(t, admin)
	for _, want := range []string{"calculator", "datetime", "memory_save", "memory_list", "rag_query", "rag_create_index"} {
		if !slices.Contains(got, want) {
			t.Fatalf("tools %v lack %s", got, want)
		}
	}
	if text, isErr := call(t, admin, "calculator", `{"expression":"6*7"}`); isErr || !strings.Contains(text, "42") {
		t.Fatalf("calculator: %v %s", isErr, text)
	}
	if text, isErr := call(t, admin, "calculator", `{"nope":1}`); !isErr || !strings.Contains(text, "invalid_arguments") {
		t.Fatalf("bad arguments: %v %s", isErr, text)
	}

	// Roles: read-only may not write memory, and is not offered the tool.
	ro := connect(t, env, gatewaytest.ReadOnlyToken, "")
	if got := names(t, ro); slices.Contains(got, "memory_save") || !slices.Contains(got, "memory_list") {
		t.Fatalf("read-only tools %v", got)
	}

	// Tenant scoping: acme's tenant memory is acme's alone.
	if text, isErr := call(t, admin, "memory_save", `{"scope":"tenant","key":"launch","content":"acme launches in May"}`); isErr {
		t.Fatalf("memory_save: %s", text)
	}
	if text, _ := call(t, admin, "memory_list", `{"scope":"tenant"}`); !strings.Contains(text, "acme launches in May") {
		t.Fatalf("acme's list: %s", text)
	}
	other := connect(t, env, gatewaytest.OtherToken, "bob")
	text, isErr := call(t, other, "memory_list", `{"scope":"tenant"}`)
	if isErr || strings.Contains(text, "acme") {
		t.Fatalf("globex sees acme's memory: %v %s", isErr, text)
	}
	if text, _ := call(t, other, "memory_recall", `{"query":"launch"}`); strings.Contains(text, "acme") {
		t.Fatalf("globex recalls acme's memory: %s", text)
	}

	// No token, a bad token: the gateway's own 401, before any MCP.
	resp := gatewaytest.Do(t, func() *http.Request {
		r := env.Request(t, "POST", "/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		r.Header.Set("Authorization", "Bearer sk-wrong")
		return r
	}())
	if resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
}
