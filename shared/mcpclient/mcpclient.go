// Package mcpclient connects the gateway to MCP tool servers (Streamable HTTP and
// stdio, through the official MCP Go SDK) and offers their tools to the tool loop
// as tools.External: namespaced <server>__<tool>, under the same tenant allowlist,
// roles, timeouts and billing as the stack tools. Servers come from gateway.yaml
// (mcp.servers for every tenant, tenants.<id>.mcp_servers for one); the tenant
// setting mcp.servers picks which of them a tenant's chats use. A server that is
// down is skipped, never failing a chat, and shows in Status (/statsz, /readyz,
// the metrics).
package mcpclient

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"spass/shared/config"
	"spass/shared/tenantcfg"
	"spass/shared/tools"
)

// Separator joins a server's name and its tool's name in the name the model sees.
const Separator = "__"

// firstWait bounds how long a chat waits for a server's very first listing.
const firstWait = 3 * time.Second

// Settings is the settings cascade (tenantcfg.Service).
type Settings interface {
	Effective(ctx context.Context, tenant string) (*tenantcfg.Effective, error)
}

// Manager holds every configured server. It is safe for concurrent use.
type Manager struct {
	global   []*server
	tenants  map[string][]*server
	names    map[string]bool
	settings Settings
}

// Options are what New needs beside the config.
type Options struct {
	Getenv   func(string) string
	Settings Settings
	// Calls counts tool calls by server and outcome (ok, tool_error, timeout,
	// unavailable); nil counts nothing.
	Calls func(server, outcome string)
	// Version names the gateway to the servers.
	Version string
}

// New returns the manager of cfg's servers; nil when there are none, so that a
// gateway without MCP pays nothing in its tool loop. Servers are connected on
// first use (or by Start).
func New(cfg *config.Config, o Options) *Manager {
	m := &Manager{tenants: map[string][]*server{}, names: map[string]bool{}, settings: o.Settings}
	if o.Calls == nil {
		o.Calls = func(string, string) {}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "spass-gateway", Version: o.Version}, nil)
	refresh := cfg.MCP.Refresh.Duration
	if refresh <= 0 {
		refresh = time.Minute
	}
	mk := func(sc config.MCPServer, tenant string) *server {
		m.names[sc.Name] = true
		return &server{cfg: sc, tenant: tenant, getenv: o.Getenv, client: client, calls: o.Calls,
			timeout: cmpDuration(sc.Timeout.Duration, cfg.Tools.Timeout.Duration), refresh: refresh}
	}
	for _, sc := range cfg.MCP.Servers {
		m.global = append(m.global, mk(sc, ""))
	}
	for id, t := range cfg.Tenants {
		for _, sc := range t.MCPServers {
			m.tenants[id] = append(m.tenants[id], mk(sc, id))
		}
	}
	if len(m.names) == 0 {
		return nil
	}
	return m
}

func cmpDuration(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}

// Start checks every server once in the background, so the first chat finds
// their listings ready.
func (m *Manager) Start() {
	for _, s := range m.all() {
		s.list(context.Background(), 0)
	}
}

// Close ends every session and stops the stdio servers.
func (m *Manager) Close() {
	for _, s := range m.all() {
		s.close()
	}
}

func (m *Manager) all() []*server {
	out := slices.Clone(m.global)
	for _, ss := range m.tenants {
		out = append(out, ss...)
	}
	return out
}

// servers returns the servers tenant's chats use: its own and the global ones
// that its mcp.servers setting allows.
func (m *Manager) servers(ctx context.Context, tenant string) []*server {
	eff, err := m.settings.Effective(ctx, tenant)
	if err != nil {
		return nil
	}
	var out []*server
	for _, ss := range [][]*server{m.tenants[tenant], m.global} {
		for _, s := range ss {
			if eff.Listed(tenantcfg.MCPServers, s.cfg.Name) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Tools returns the tools of the tenant's servers that answer.
func (m *Manager) Tools(ctx context.Context, c tools.Call) []*tools.Tool {
	var out []*tools.Tool
	for _, s := range m.servers(ctx, c.Tenant) {
		out = append(out, s.list(ctx, firstWait)...)
	}
	return out
}

// Tool returns the tenant's tool named name.
func (m *Manager) Tool(ctx context.Context, c tools.Call, name string) (*tools.Tool, bool) {
	prefix, _, ok := strings.Cut(name, Separator)
	if !ok {
		return nil, false
	}
	for _, s := range m.servers(ctx, c.Tenant) {
		if s.cfg.Name == prefix {
			return s.lookup(ctx, name, firstWait)
		}
	}
	return nil, false
}

// Known reports whether name is in the namespace of a configured server.
func (m *Manager) Known(name string) bool {
	prefix, rest, ok := strings.Cut(name, Separator)
	return ok && rest != "" && m.names[prefix]
}

// Status is one server's state, as /statsz shows it.
type Status struct {
	Name      string `json:"name"`
	Tenant    string `json:"tenant,omitempty"` // empty for a server of every tenant
	Transport string `json:"transport"`        // streamable_http or stdio
	Up        bool   `json:"up"`
	Tools     int    `json:"tools"`
	Reason    string `json:"reason,omitempty"` // connect_failed, list_failed, call_failed, not_checked
	CheckedAt string `json:"checked_at,omitempty"`
}

// Status returns every server's state, global servers first, then by tenant.
func (m *Manager) Status() []Status {
	var out []Status
	for _, s := range m.all() {
		s.mu.Lock()
		st := Status{Name: s.cfg.Name, Tenant: s.tenant, Transport: "streamable_http", Up: s.up, Tools: len(s.tools), Reason: s.reason}
		if s.cfg.Command != "" {
			st.Transport = "stdio"
		}
		if s.checkedAt.IsZero() {
			st.Reason = "not_checked"
		} else {
			st.CheckedAt = s.checkedAt.UTC().Format(time.RFC3339)
		}
		s.mu.Unlock()
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b Status) int {
		return strings.Compare(a.Tenant+"/"+a.Name, b.Tenant+"/"+b.Name)
	})
	return out
}

// Degraded reports whether a checked server is down.
func (m *Manager) Degraded() bool {
	for _, st := range m.Status() {
		if !st.Up && st.Reason != "not_checked" {
			return true
		}
	}
	return false
}

// Up reports whether the named server (of tenant, or global with "") answers;
// the metrics read it at scrape time.
func (m *Manager) Up(tenant, name string) bool {
	for _, s := range m.all() {
		if s.tenant == tenant && s.cfg.Name == name {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.up
		}
	}
	return false
}

// roles are the roles allowed by a server's config, for tools.Tool.Roles.
func roles(sc config.MCPServer) []string {
	if len(sc.Roles) == 0 {
		return nil
	}
	return slices.Clone(sc.Roles)
}
