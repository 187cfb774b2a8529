// Package tenant serves a tenant's own state: its settings (the DB level of the
// config cascade) and its usage. The tenant always comes from the bearer token, so
// no route can name another tenant.
package tenant

import (
	"encoding/json"
	"net/http"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/tenantcfg"
	"spass/shared/web"
)

// Routes are the patterns this group serves.
var Routes = []string{
	"GET /v1/tenant/config",
	"PUT /v1/tenant/config",
	"DELETE /v1/tenant/config",
	"DELETE /v1/tenant/config/{key}",
	"GET /v1/billing/usage",
	"GET /v1/tools",
	"POST /v1/tools/execute",
	"POST /v1/memory",
	"GET /v1/memory",
	"GET /v1/memory/{id}",
	"PUT /v1/memory/{id}",
	"DELETE /v1/memory/{id}",
	"POST /v1/system-prompts",
	"GET /v1/system-prompts",
	"GET /v1/system-prompts/{name}",
	"PUT /v1/system-prompts/{name}",
	"DELETE /v1/system-prompts/{name}",
}

// New returns the handler for the tenant group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/tenant/config", a.Auth.Require(web.Handle(getConfig(a.Settings))))
	mux.Handle("PUT /v1/tenant/config", a.Auth.Require(web.Handle(putConfig(a.Settings))))
	mux.Handle("DELETE /v1/tenant/config", a.Auth.Require(web.Handle(deleteConfig(a.Settings))))
	mux.Handle("DELETE /v1/tenant/config/{key}", a.Auth.Require(web.Handle(deleteConfig(a.Settings))))
	mux.Handle("GET /v1/billing/usage", a.Auth.Require(web.Handle(usage(a))))
	mux.Handle("GET /v1/tools", a.Auth.RequireUser(web.Handle(listTools(a))))
	mux.Handle("POST /v1/tools/execute", a.Auth.RequireUser(web.Handle(executeTool(a))))
	mux.Handle("POST /v1/memory", a.Auth.RequireUser(web.Handle(saveMemory(a.Store))))
	mux.Handle("GET /v1/memory", a.Auth.RequireUser(web.Handle(listMemory(a.Store))))
	mux.Handle("GET /v1/memory/{id}", a.Auth.RequireUser(web.Handle(getMemory(a.Store))))
	mux.Handle("PUT /v1/memory/{id}", a.Auth.RequireUser(web.Handle(updateMemory(a.Store))))
	mux.Handle("DELETE /v1/memory/{id}", a.Auth.RequireUser(web.Handle(deleteMemory(a.Store))))
	mux.Handle("POST /v1/system-prompts", a.Auth.RequireUser(web.Handle(createPrompt(a.Store))))
	mux.Handle("GET /v1/system-prompts", a.Auth.RequireUser(web.Handle(listPrompts(a.Store))))
	mux.Handle("GET /v1/system-prompts/{name}", a.Auth.RequireUser(web.Handle(getPrompt(a.Store))))
	mux.Handle("PUT /v1/system-prompts/{name}", a.Auth.RequireUser(web.Handle(updatePrompt(a.Store))))
	mux.Handle("DELETE /v1/system-prompts/{name}", a.Auth.RequireUser(web.Handle(deletePrompt(a.Store))))
	return a.Middleware(mux)
}

// configView is the effective config with each key's source, type and doc.
type configView struct {
	Object string                `json:"object"`
	Tenant string                `json:"tenant"`
	Config map[string]configItem `json:"config"`
}

type configItem struct {
	Value  any    `json:"value"`
	Source string `json:"source"`
	Type   string `json:"type"`
	Doc    string `json:"description"`
}

func view(eff *tenantcfg.Effective) configView {
	v := configView{Object: "tenant.config", Tenant: eff.Tenant, Config: map[string]configItem{}}
	for _, k := range tenantcfg.Keys {
		val := eff.Values[k.Name]
		v.Config[k.Name] = configItem{Value: val.Value, Source: val.Source, Type: string(k.Kind), Doc: k.Doc}
	}
	return v
}

// getConfig serves "GET /v1/tenant/config"; every role may read.
func getConfig(s *tenantcfg.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		eff, err := s.Effective(r.Context(), auth.From(r.Context()).Tenant)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, view(eff))
	}
}

// putConfig serves "PUT /v1/tenant/config": a JSON object of key -> value.
func putConfig(s *tenantcfg.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if !p.CanWrite() {
			return apierr.E(apierr.PermissionDenied, "Only admin and tenant_admin may change tenant settings.", nil)
		}
		b, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(b, &body); err != nil {
			return apierr.E(apierr.InvalidJSON, "The body must be a JSON object of setting -> value.", nil)
		}
		if err := s.Set(r.Context(), p.Tenant, body, p.Token); err != nil {
			return err
		}
		return writeEffective(w, r, s, p.Tenant)
	}
}

// deleteConfig serves "DELETE /v1/tenant/config[/{key}]".
func deleteConfig(s *tenantcfg.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if !p.CanWrite() {
			return apierr.E(apierr.PermissionDenied, "Only admin and tenant_admin may change tenant settings.", nil)
		}
		if err := s.Delete(r.Context(), p.Tenant, r.PathValue("key")); err != nil {
			return err
		}
		return writeEffective(w, r, s, p.Tenant)
	}
}

func writeEffective(w http.ResponseWriter, r *http.Request, s *tenantcfg.Service, tenant string) error {
	eff, err := s.Effective(r.Context(), tenant)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, view(eff))
}

// list is the answer of the list routes: {"object": "list", "data": [...]}.
type list[T any] struct {
	Object string `json:"object"`
	Data   []T    `json:"data"`
}

// listOf is the list answer of items, each converted by to; no items make an
// empty data array, never null.
func listOf[S, T any](items []S, to func(S) T) list[T] {
	out := list[T]{Object: "list", Data: make([]T, len(items))}
	for i, it := range items {
		out.Data[i] = to(it)
	}
	return out
}
