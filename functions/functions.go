// Package functions is the bundle: every endpoint group of functions/, mounted on
// one port (the DGX host's gateway, the dev shim) or one per Lambda function
// (functions/<group>/bootstrap). It also serves that bundle as the host does.
package functions

import (
	"net/http"
	"strings"

	"spass/functions/admin"
	"spass/functions/agents"
	"spass/functions/conversations"
	"spass/functions/discovery"
	"spass/functions/mcp"
	"spass/functions/openai"
	"spass/functions/rag"
	"spass/functions/tenant"
	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/web"
)

// Group is one endpoint group: its route patterns and its handler constructor.
type Group struct {
	Name   string
	Routes []string
	New    func(*app.App) http.Handler
}

// Groups lists every endpoint group the bundle has.
var Groups = []Group{
	{Name: "openai", Routes: openai.Routes, New: openai.New},
	{Name: "conversations", Routes: conversations.Routes, New: conversations.New},
	{Name: "agents", Routes: agents.Routes, New: agents.New},
	{Name: "discovery", Routes: discovery.Routes, New: discovery.New},
	{Name: "tenant", Routes: tenant.Routes, New: tenant.New},
	{Name: "admin", Routes: admin.Routes, New: admin.New},
	{Name: "rag", Routes: rag.Routes, New: rag.New},
	{Name: "mcp", Routes: mcp.Routes, New: mcp.New},
}

// Handler mounts every group's routes on one mux. Unknown paths get the catalog's
// not_found and known paths with another method get method_not_allowed, both as
// OpenAI-shaped JSON so SDKs read them.
func Handler(a *app.App) http.Handler {
	mux := http.NewServeMux()
	paths := map[string]bool{}
	for _, g := range Groups {
		h := g.New(a)
		for _, route := range g.Routes {
			mux.Handle(route, h)
			if _, path, ok := strings.Cut(route, " "); ok {
				paths[path] = true
			}
		}
	}
	// Refusals go through the middleware too, so they carry a SPASS-Request-Id.
	notAllowed := a.Middleware(web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return apierr.E(apierr.MethodNotAllowed, "", nil)
	}))
	for p := range paths {
		mux.Handle(p, notAllowed)
	}
	mux.Handle("/", a.Middleware(web.NotFound()))
	return mux
}
