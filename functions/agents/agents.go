// Package agents serves /a1: agents defined in YAML files or through the API,
// multi-turn sessions whose turns run the agent's tool loop on the chat core, and
// compaction that keeps long sessions within the model's window while every
// original message stays readable through the session's lineage.
package agents

import (
	"errors"
	"net/http"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/web"
)

// Routes are the patterns this group serves; the dev shim and template.yaml mount them.
var Routes = []string{
	"POST /a1/agents",
	"GET /a1/agents",
	"GET /a1/agents/{name}",
	"PUT /a1/agents/{name}",
	"DELETE /a1/agents/{name}",
	"POST /a1/agents/{name}/sessions",
	"GET /a1/agents/{name}/sessions",
	"GET /a1/sessions/{id}",
	"DELETE /a1/sessions/{id}",
	"POST /a1/sessions/{id}/messages",
	"GET /a1/sessions/{id}/messages",
	"POST /a1/sessions/{id}/compact",
	"GET /a1/sessions/{id}/lineage",
	// A2A (a2a.go)
	"GET /v1/a2a",
	"GET /v1/a2a/{agent}/.well-known/agent-card.json",
	"POST /v1/a2a/{agent}",
}

// New returns the handler for the /a1 group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	req, user, reader := a.Auth.Require, a.Auth.RequireUser, a.Auth.RequireUserOrAdmin
	mux.Handle("POST /a1/agents", req(web.Handle(createAgent(a))))
	mux.Handle("GET /a1/agents", req(web.Handle(listAgents(a))))
	mux.Handle("GET /a1/agents/{name}", req(web.Handle(getAgent(a))))
	mux.Handle("PUT /a1/agents/{name}", req(web.Handle(putAgent(a))))
	mux.Handle("DELETE /a1/agents/{name}", req(web.Handle(deleteAgent(a))))
	mux.Handle("POST /a1/agents/{name}/sessions", user(web.Handle(createSession(a))))
	mux.Handle("GET /a1/agents/{name}/sessions", reader(web.Handle(listSessions(a))))
	mux.Handle("GET /a1/sessions/{id}", reader(web.Handle(getSession(a))))
	mux.Handle("DELETE /a1/sessions/{id}", user(web.Handle(deleteSession(a))))
	mux.Handle("POST /a1/sessions/{id}/messages", user(web.Handle(turn(a))))
	mux.Handle("GET /a1/sessions/{id}/messages", reader(web.Handle(sessionMessages(a))))
	mux.Handle("POST /a1/sessions/{id}/compact", user(web.Handle(compact(a))))
	mux.Handle("GET /a1/sessions/{id}/lineage", reader(web.Handle(lineage(a))))
	mountA2A(mux, a)
	return a.Middleware(mux)
}

// invalid turns an agent definition error into the catalog's invalid_agent,
// naming the key.
func invalid(err error) error {
	var fe *agent.FieldError
	if errors.As(err, &fe) {
		return apierr.P(apierr.InvalidAgent, fe.Key, "Invalid agent: "+apierr.Clip(fe.Error(), 300))
	}
	return apierr.E(apierr.InvalidAgent, "Invalid agent: "+apierr.Clip(err.Error(), 300), nil)
}
