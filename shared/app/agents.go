package app

import (
	"context"

	"spass/shared/agent"
	"spass/shared/compaction"
)

// openAgents reads the file agents (their tools checked against the stack
// tools) and builds the compaction service.
func (a *App) openAgents() error {
	files, err := agent.LoadDir(a.Config.AgentsDir, a.Tools.Known)
	if err != nil {
		return err
	}
	a.FileAgents = files
	a.Compaction = &compaction.Service{Chat: a.Chat, Store: a.Store, Router: a.Router, Settings: a.Settings, Find: a.FindAgent}
	return nil
}

// FindAgent returns the agent named name that tenant sees: its own (defined
// through /a1/agents), else a file agent shared by every tenant or scoped to it.
func (a *App) FindAgent(ctx context.Context, tenant, name string) (agent.Agent, bool, error) {
	if ag, ok, err := a.Store.Agent(ctx, tenant, name); err != nil || ok {
		ag.Source = "api"
		return ag, ok, err
	}
	for _, f := range a.FileAgents {
		if f.Name == name && (f.Tenant == "" || f.Tenant == tenant) {
			return f, true, nil
		}
	}
	return agent.Agent{}, false, nil
}

// VisibleFileAgents are the file agents tenant sees.
func (a *App) VisibleFileAgents(tenant string) []agent.Agent {
	var out []agent.Agent
	for _, f := range a.FileAgents {
		if f.Tenant == "" || f.Tenant == tenant {
			out = append(out, f)
		}
	}
	return out
}
