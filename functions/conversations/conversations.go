// Package conversations serves /c1: conversations the gateway keeps for a team's
// own apps. A turn sends only the new message; the server prepends the history
// that fits the model's window, runs the turn through the chat core (the same
// routing, limits, tools and billing as /v1), and keeps the answer.
package conversations

import (
	"net/http"

	"spass/shared/app"
	"spass/shared/web"
)

// HeaderConversation carries the conversation id on every /c1/chat answer.
const HeaderConversation = "SPASS-Conversation-Id"

// Routes are the patterns this group serves; the dev shim and template.yaml mount them.
var Routes = []string{
	"POST /c1/chat",
	"GET /c1/conversations",
	"GET /c1/conversations/{id}",
	"PATCH /c1/conversations/{id}",
	"DELETE /c1/conversations/{id}",
}

// New returns the handler for the /c1 group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /c1/chat", a.Auth.RequireUser(web.Handle(chatTurn(a))))
	mux.Handle("GET /c1/conversations", a.Auth.RequireUserOrAdmin(web.Handle(list(a))))
	mux.Handle("GET /c1/conversations/{id}", a.Auth.RequireUserOrAdmin(web.Handle(get(a))))
	mux.Handle("PATCH /c1/conversations/{id}", a.Auth.RequireUser(web.Handle(patch(a))))
	mux.Handle("DELETE /c1/conversations/{id}", a.Auth.RequireUser(web.Handle(remove(a))))
	return a.Middleware(mux)
}
