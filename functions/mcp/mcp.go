// Package mcp serves /mcp: the gateway as an MCP server (Streamable HTTP) for
// IDEs and desktop assistants. It offers the tools a token may use, exactly as
// GET /v1/tools lists them (the stack tools, RAG and memory included, and the
// tools of the tenant's MCP servers), under the same bearer auth, roles and tenant
// scoping: every call runs as the token's principal, so a token of another tenant
// reaches only its own memory and indices. The server is stateless and answers in
// JSON, so it also runs behind buffered Lambda adapters.
package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tidwall/gjson"

	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/tenantcfg"
	"spass/shared/tools"
)

// Routes are the patterns this group serves; the dev shim and template.yaml mount them.
var Routes = []string{"POST /mcp"}

// New returns the handler for the /mcp group.
func New(a *app.App) http.Handler {
	h := sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server { return server(a, r) }, &sdk.StreamableHTTPOptions{
		Stateless: true, JSONResponse: true,
		// The bearer token is the protection: a DNS-rebinding page cannot send it,
		// and behind a reverse proxy on the host every request comes from localhost.
		DisableLocalhostProtection: true,
	})
	// SPASS-User-Id is optional here; when sent, user-scoped memory is the user's.
	withUser, without := a.Auth.RequireUser(h), a.Auth.Require(h)
	mux := http.NewServeMux()
	mux.Handle("POST /mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(auth.UserHeader) != "" {
			withUser.ServeHTTP(w, r)
			return
		}
		without.ServeHTTP(w, r)
	}))
	return a.Middleware(mux)
}

// server builds the MCP server of one request: the tools its principal may use.
func server(a *app.App, r *http.Request) *sdk.Server {
	p := auth.From(r.Context())
	call := tools.Call{Principal: p, RequestID: requestid.From(r.Context())}
	s := sdk.NewServer(&sdk.Implementation{Name: "spass-gateway", Title: "SPASS gateway tools", Version: "1"}, nil)
	for _, t := range usable(a, r.Context(), p) {
		if gjson.GetBytes(t.Parameters, "type").Str != "object" {
			continue // MCP wants an object schema; every stack tool has one
		}
		s.AddTool(&sdk.Tool{Name: t.Name, Description: t.Description, InputSchema: json.RawMessage(t.Parameters)}, handler(a, call, t.Name))
	}
	return s
}

// usable returns the tools p may run, as GET /v1/tools lists them.
func usable(a *app.App, ctx context.Context, p identity.Principal) []*tools.Tool {
	eff, err := a.Settings.Effective(ctx, p.Tenant)
	if err != nil {
		return nil
	}
	all := a.Tools.List()
	if ext := a.Tools.ExternalTools(ctx, tools.Call{Principal: p}); len(ext) > 0 {
		all = append(slices.Clip(all), ext...)
	}
	var out []*tools.Tool
	for _, t := range all {
		if t.Permits(p) && eff.Listed(tenantcfg.ToolAllowlist, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// handler runs one tool through the registry (schema check, role, timeout). A
// tool error is a result with isError, which the MCP client shows its model.
func handler(a *app.App, call tools.Call, name string) sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		var args json.RawMessage
		if req.Params != nil {
			args = req.Params.Arguments
		}
		ctx, cancel := context.WithTimeout(ctx, a.Config.Tools.Timeout.Duration)
		defer cancel()
		res, err := a.Tools.Run(ctx, call, name, args)
		if err != nil {
			b, _ := json.Marshal(map[string]any{"error": err})
			return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}}, nil
		}
		b, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		out := &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}}
		if len(b) > 0 && b[0] == '{' {
			out.StructuredContent = json.RawMessage(b)
		}
		return out, nil
	}
}
