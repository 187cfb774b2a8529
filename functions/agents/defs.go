package agents

import (
	"net/http"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/web"
)

// Agents of /a1/agents belong to one tenant and are changed by its admin roles;
// file agents (read from the agents directory) are read-only, shared by every
// tenant or scoped to one in the file. A tenant never sees another's agents.

// agentObject is an agent on the wire.
type agentObject struct {
	Object string `json:"object"`
	agent.Agent
}

func toAgentObject(a agent.Agent) agentObject {
	a.Tenant = "" // the caller's own tenant, or shared: nothing to say
	return agentObject{Object: "agent", Agent: a}
}

// createAgent serves "POST /a1/agents" (a JSON or YAML body).
func createAgent(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ag, err := readAgent(a, r, "")
		if err != nil {
			return err
		}
		p := auth.From(r.Context())
		if _, exists, err := a.FindAgent(r.Context(), p.Tenant, ag.Name); err != nil {
			return apierr.E(apierr.Internal, "", err)
		} else if exists {
			return apierr.P(apierr.AgentExists, "name", "")
		}
		if _, err := a.Store.SaveAgent(r.Context(), p.Tenant, ag); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		ag.Source = "api"
		return web.JSON(w, http.StatusCreated, toAgentObject(ag))
	}
}

// putAgent serves "PUT /a1/agents/{name}": creates or replaces the tenant's agent.
func putAgent(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		ag, err := readAgent(a, r, name)
		if err != nil {
			return err
		}
		p := auth.From(r.Context())
		if isFileAgent(a, p.Tenant, name) {
			return apierr.E(apierr.AgentReadOnly, "", nil)
		}
		created, err := a.Store.SaveAgent(r.Context(), p.Tenant, ag)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		ag.Source = "api"
		return web.Saved(w, created, toAgentObject(ag))
	}
}

// readAgent checks the caller may define agents and parses the body; a path name,
// when given, must match the body's (or fills it in).
func readAgent(a *app.App, r *http.Request, name string) (agent.Agent, error) {
	if !auth.From(r.Context()).CanWrite() {
		return agent.Agent{}, apierr.E(apierr.PermissionDenied, "Defining agents needs the admin or tenant_admin role.", nil)
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return agent.Agent{}, err
	}
	ag, err := agent.Parse(body)
	if name != "" && ag.Name == "" {
		ag.Name = name
		err = ag.Validate()
	}
	if err == nil {
		err = agent.CheckTools(ag, a.Tools.Known)
	}
	if err != nil {
		return agent.Agent{}, invalid(err)
	}
	if name != "" && ag.Name != name {
		return agent.Agent{}, apierr.P(apierr.InvalidAgent, "name", "The body names another agent than the path.")
	}
	if ag.Tenant != "" {
		return agent.Agent{}, apierr.P(apierr.InvalidAgent, "tenant", "An agent defined through the API belongs to your tenant: leave tenant out.")
	}
	if a.Router.Model(ag.Model) == nil {
		return agent.Agent{}, apierr.P(apierr.InvalidAgent, "model", "The model "+apierr.Quote(ag.Model)+" is not served by this gateway.")
	}
	if ag.RAGIndex != "" && a.RAG != nil {
		if _, err := a.RAG.Index(r.Context(), auth.From(r.Context()), ag.RAGIndex); err != nil {
			return agent.Agent{}, apierr.P(apierr.InvalidAgent, "rag_index", "Your tenant has no RAG index "+apierr.Quote(ag.RAGIndex)+"; create it first (POST /a1/rag/indices).")
		}
	}
	return ag, nil
}

func isFileAgent(a *app.App, tenant, name string) bool {
	for _, f := range a.VisibleFileAgents(tenant) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// listAgents serves "GET /a1/agents": the tenant's own and the file agents it sees.
func listAgents(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		own, err := a.Store.Agents(r.Context(), p.Tenant)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		data := []agentObject{}
		for _, ag := range own {
			ag.Source = "api"
			data = append(data, toAgentObject(ag))
		}
		for _, ag := range a.VisibleFileAgents(p.Tenant) {
			data = append(data, toAgentObject(ag))
		}
		return web.JSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	}
}

// getAgent serves "GET /a1/agents/{name}".
func getAgent(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ag, err := findAgent(a, r, r.PathValue("name"))
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, toAgentObject(ag))
	}
}

// deleteAgent serves "DELETE /a1/agents/{name}"; its sessions stay readable.
func deleteAgent(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		name := r.PathValue("name")
		if !p.CanWrite() {
			return apierr.E(apierr.PermissionDenied, "Deleting agents needs the admin or tenant_admin role.", nil)
		}
		ok, err := a.Store.DeleteAgent(r.Context(), p.Tenant, name)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			if isFileAgent(a, p.Tenant, name) {
				return apierr.E(apierr.AgentReadOnly, "", nil)
			}
			return apierr.E(apierr.AgentNotFound, "", nil)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"name": name, "object": "agent.deleted", "deleted": true})
	}
}

// findAgent is the caller's tenant's agent name, or agent_not_found.
func findAgent(a *app.App, r *http.Request, name string) (agent.Agent, error) {
	ag, ok, err := a.FindAgent(r.Context(), auth.From(r.Context()).Tenant, name)
	if err != nil {
		return ag, apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return ag, apierr.E(apierr.AgentNotFound, "", nil)
	}
	return ag, nil
}
