package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// MCP configures the MCP tool servers whose tools the tool loop offers beside the
// stack tools (docs/mcp.md). Servers under mcp.servers serve every tenant; a
// tenant's own servers sit under tenants.<id>.mcp_servers. Only gateway.yaml
// defines servers: a stdio server is a process the gateway starts and an HTTP
// server a URL it calls, neither of which a tenant's API token may choose.
type MCP struct {
	Servers []MCPServer `yaml:"servers"`
	// Refresh is how long a server's tool listing is reused before it is asked
	// again, and how long a server that did not answer is skipped.
	Refresh Duration `yaml:"refresh"`
}

// MCPServer is one MCP tool server: Streamable HTTP (URL) or stdio (Command).
type MCPServer struct {
	// Name namespaces the server's tools: the model sees <name>__<tool>.
	Name string `yaml:"name"`
	// URL is a Streamable HTTP endpoint.
	URL string `yaml:"url"`
	// Headers are sent with every HTTP request; values may hold ${env:NAME}, read
	// from the process environment when the gateway connects, so that a secret
	// never sits in gateway.yaml or the settings store.
	Headers map[string]string `yaml:"headers"`
	// Command and Args start a stdio server; Env adds to its environment (values
	// may hold ${env:NAME} too).
	Command string            `yaml:"command"`
	Args    []string          `yaml:"args"`
	Env     map[string]string `yaml:"env"`
	// Timeout bounds one tool call (default: tools.timeout).
	Timeout Duration `yaml:"timeout"`
	// Tools, when set, offers only these tools of the server (by their own names).
	Tools []string `yaml:"tools"`
	// Roles that may run the server's tools; empty means every role.
	Roles []string `yaml:"roles"`
}

// mcpName is a server name: short, and without "__", which separates it from
// the tool's name.
var mcpName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,23}$`)

// envRef is a reference to a process variable in a header or env value.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// Expand replaces each ${env:NAME} in v with getenv(NAME).
func Expand(v string, getenv func(string) string) string {
	return envRef.ReplaceAllStringFunc(v, func(m string) string {
		return getenv(envRef.FindStringSubmatch(m)[1])
	})
}

// validateMCP checks the global servers and every tenant's.
func (c *Config) validateMCP() error {
	if err := validateMCPServers("mcp.servers", c.MCP.Servers, nil); err != nil {
		return err
	}
	for id, t := range c.Tenants {
		if err := validateMCPServers("tenants."+id+".mcp_servers", t.MCPServers, c.MCP.Servers); err != nil {
			return err
		}
	}
	return nil
}

func validateMCPServers(key string, servers, global []MCPServer) error {
	seen := map[string]bool{}
	for _, s := range global {
		seen[s.Name] = true
	}
	for i, s := range servers {
		k := fmt.Sprintf("%s[%d]", key, i)
		if !mcpName.MatchString(s.Name) {
			return fmt.Errorf("%s.name: need lower-case letters, digits and '-' (at most 24), got %q", k, s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("%s.name: duplicate MCP server %q", k, s.Name)
		}
		seen[s.Name] = true
		if (s.URL == "") == (s.Command == "") {
			return fmt.Errorf("%s: set exactly one of url (Streamable HTTP) and command (stdio)", k)
		}
		if s.URL != "" {
			u, err := url.Parse(s.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%s.url: need an http(s) URL, got %q", k, s.URL)
			}
		}
		for h := range s.Headers {
			if strings.TrimSpace(h) == "" || strings.ContainsAny(h, ": \r\n") {
				return fmt.Errorf("%s.headers: invalid header name %q", k, h)
			}
		}
		for _, r := range s.Roles {
			if r != RoleAdmin && r != RoleTenantAdmin && r != RoleUser && r != RoleReadOnly {
				return fmt.Errorf("%s.roles: unknown role %q", k, r)
			}
		}
	}
	return nil
}
