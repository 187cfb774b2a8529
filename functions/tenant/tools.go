package tenant

import (
	"encoding/json"
	"net/http"
	"slices"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/tenantcfg"
	"spass/shared/tools"
	"spass/shared/web"
)

type toolView struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// usable returns the stack tools p may run: allowed by the tenant and by p's role,
// then the tools of the tenant's MCP servers that answer (docs/mcp.md).
func usable(a *app.App, r *http.Request, p identity.Principal) ([]*tools.Tool, error) {
	eff, err := a.Settings.Effective(r.Context(), p.Tenant)
	if err != nil {
		return nil, err
	}
	var out []*tools.Tool
	all := a.Tools.List()
	if ext := a.Tools.ExternalTools(r.Context(), tools.Call{Principal: p}); len(ext) > 0 {
		all = append(slices.Clip(all), ext...)
	}
	for _, t := range all {
		if t.Permits(p) && eff.Listed(tenantcfg.ToolAllowlist, t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

// listTools serves "GET /v1/tools": the stack tools this principal may use, in the
// OpenAI tools[] shape, so a client can show or reuse them.
func listTools(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ts, err := usable(a, r, auth.From(r.Context()))
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, listOf(ts, func(t *tools.Tool) toolView {
			return toolView{Type: "function", Function: toolFunction{Name: t.Name, Description: t.Description, Parameters: t.Parameters}}
		}))
	}
}

// executeTool serves "POST /v1/tools/execute" {"name", "arguments"}: one stack tool
// run directly, under the same permissions as in the tool loop. A tool failure is a
// 200 with "error", as the model would see it; refusals are catalog errors.
func executeTool(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		var req struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
			UserID    json.RawMessage `json:"user_id"`
		}
		if err := json.Unmarshal(b, &req); err != nil {
			return apierr.E(apierr.InvalidJSON, "", nil)
		}
		if req.UserID != nil {
			return apierr.P(apierr.UserIDInBody, "user_id", "")
		}
		if req.Name == "" {
			return apierr.P(apierr.MissingParameter, "name", "Name the tool to run.")
		}
		// Arguments may come as an object or, as in OpenAI tool calls, a JSON string.
		var s string
		if json.Unmarshal(req.Arguments, &s) == nil {
			req.Arguments = json.RawMessage(s)
		}
		p := auth.From(r.Context())
		ts, err := usable(a, r, p)
		if err != nil {
			return err
		}
		allowed := false
		for _, t := range ts {
			allowed = allowed || t.Name == req.Name
		}
		// The name is the client's until it matched a tool: quote it clipped.
		if _, exists := a.Tools.Get(req.Name); !exists && !allowed && !a.Tools.Known(req.Name) {
			return apierr.P(apierr.ToolNotFound, "name", "No stack tool named "+apierr.Quote(req.Name)+".")
		}
		if !allowed {
			return apierr.P(apierr.PermissionDenied, "name", "Your tenant or role may not run "+req.Name+".")
		}
		res, err := a.Tools.Run(r.Context(), tools.Call{Principal: p, RequestID: requestid.From(r.Context())}, req.Name, req.Arguments)
		out := map[string]any{"object": "tool.result", "name": req.Name}
		if err != nil {
			out["error"] = err
		} else {
			out["result"] = res
		}
		return web.JSON(w, http.StatusOK, out)
	}
}
