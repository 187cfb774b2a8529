package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spass/shared/config"
)

func loadYAML(t *testing.T, yaml string) (*config.Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Load(env(map[string]string{"SPASS_CONFIG": path}))
}

func TestMCPServers(t *testing.T) {
	c, err := loadYAML(t, `mcp:
  refresh: 30s
  servers:
    - {name: docs, url: "https://mcp.example/mcp", headers: {Authorization: "Bearer ${env:DOCS}"}, timeout: 5s}
    - {name: git, command: /bin/git-mcp, args: [--repo, /srv], env: {TOKEN: "${env:GIT}"}, tools: [log], roles: [admin]}
tenants:
  acme:
    mcp_servers: [{name: crm, url: "http://crm.internal/mcp"}]
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.MCP.Servers) != 2 || c.MCP.Refresh.Seconds() != 30 || c.Tenants["acme"].MCPServers[0].Name != "crm" {
		t.Fatalf("mcp %+v tenants %+v", c.MCP, c.Tenants)
	}
	if got := config.Expand("Bearer ${env:DOCS} and ${env:NONE}", env(map[string]string{"DOCS": "s3"})); got != "Bearer s3 and " {
		t.Errorf("Expand: %q", got)
	}
}

func TestMCPServerErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		`mcp: {servers: [{name: Docs, url: "http://x"}]}`:                                                                      "mcp.servers[0].name",
		`mcp: {servers: [{name: a__b, url: "http://x"}]}`:                                                                      "mcp.servers[0].name",
		`mcp: {servers: [{name: docs}]}`:                                                                                       "exactly one of url",
		`mcp: {servers: [{name: docs, url: "http://x", command: /bin/x}]}`:                                                     "exactly one of url",
		`mcp: {servers: [{name: docs, url: "ftp://x"}]}`:                                                                       "mcp.servers[0].url",
		`mcp: {servers: [{name: docs, url: "http://x"}, {name: docs, command: x}]}`:                                            "duplicate MCP server",
		`mcp: {servers: [{name: docs, url: "http://x", roles: [root]}]}`:                                                       "unknown role",
		`mcp: {servers: [{name: docs, url: "http://x", headers: {"A: b": c}}]}`:                                                "invalid header name",
		"mcp: {servers: [{name: docs, url: \"http://x\"}]}\ntenants: {acme: {mcp_servers: [{name: docs, url: \"http://y\"}]}}": "tenants.acme.mcp_servers[0].name: duplicate",
		`mcp: {servers: [{name: docs, url: "http://x", secret: 1}]}`:                                                           "secret",
	} {
		if _, err := loadYAML(t, yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", yaml, err, want)
		}
	}
}
