package mcpclient

import (
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"spass/shared/config"
)

func TestName(t *testing.T) {
	for _, c := range []struct{ server, tool, want string }{
		{"docs", "search", "docs__search"},
		{"docs", "files.read/v2", "docs__files_read_v2"},
		{"git", "log-é", "git__log-_"},
		{"x", strings.Repeat("a", 80), "x__" + strings.Repeat("a", 61)},
	} {
		if got := Name(c.server, c.tool); got != c.want {
			t.Errorf("Name(%q, %q) = %q, want %q", c.server, c.tool, got, c.want)
		}
	}
}

func TestConvert(t *testing.T) {
	s := &server{cfg: config.MCPServer{Name: "docs", Tools: []string{"search", "bad", "dup.x", "dup_x"}, Roles: []string{"admin"}}}
	ts, byName, orig := s.convert([]*mcp.Tool{
		{Name: "search", Description: "Search.", InputSchema: map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}}},
		{Name: "hidden", InputSchema: map[string]any{"type": "object"}},            // not in tools:
		{Name: "bad", Title: "Bad schema", InputSchema: map[string]any{"type": 7}}, // the gateway cannot compile it
		{Name: "dup.x", InputSchema: map[string]any{"type": "object"}},             // docs__dup_x
		{Name: "dup_x", InputSchema: map[string]any{"type": "object"}},             // the same name: left out
	})
	if len(ts) != 3 || ts[0].Name != "docs__search" || ts[1].Name != "docs__bad" || ts[2].Name != "docs__dup_x" {
		t.Fatalf("tools %v", ts)
	}
	if string(ts[1].Parameters) != `{"type":"object"}` || ts[1].Description != "Bad schema" {
		t.Errorf("the bad schema became %s (%q)", ts[1].Parameters, ts[1].Description)
	}
	if orig["docs__dup_x"] != "dup.x" || byName["docs__search"] != ts[0] || len(ts[0].Roles) != 1 {
		t.Errorf("orig %v, roles %v", orig, ts[0].Roles)
	}
}

func TestKnown(t *testing.T) {
	cfg := &config.Config{MCP: config.MCP{Servers: []config.MCPServer{{Name: "docs", URL: "http://x"}}},
		Tenants: map[string]config.Tenant{"acme": {MCPServers: []config.MCPServer{{Name: "crm", URL: "http://y"}}}}}
	m := New(cfg, Options{})
	for name, want := range map[string]bool{"docs__search": true, "crm__find": true, "docs__": false, "calculator": false, "other__x": false} {
		if got := m.Known(name); got != want {
			t.Errorf("Known(%q) = %v", name, got)
		}
	}
	if New(&config.Config{}, Options{}) != nil {
		t.Error("a config without servers has a manager")
	}
}
