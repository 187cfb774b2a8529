package config

import (
	"fmt"
	"slices"
	"strings"
)

// Passthrough opens a backend's raw passthrough (/proxy/{backend}/...) to tenants.
// The operator role may always use it; a tenant's tokens only when the tenant is
// listed here, and then only for the paths listed, under the tenant's rate limits
// and billing. The passthrough reaches the backend with the gateway's own key,
// which is why nothing is open by default.
type Passthrough struct {
	// Tenants are the tenant ids whose tokens may use the passthrough.
	Tenants []string `yaml:"tenants"`
	// Paths are the backend paths tenants may reach: an exact path ("/v1/models"),
	// or a prefix ending in "*" ("/v1/rerank*"). Empty refuses every path.
	Paths []string `yaml:"paths"`
}

// Allows reports whether tenant may reach path on the backend.
func (p Passthrough) Allows(tenant, path string) bool {
	if !slices.Contains(p.Tenants, tenant) {
		return false
	}
	for _, a := range p.Paths {
		if pre, ok := strings.CutSuffix(a, "*"); ok && strings.HasPrefix(path, pre) || a == path {
			return true
		}
	}
	return false
}

// Debug holds switches for the gateway's own diagnosis.
type Debug struct {
	// Pprof serves net/http/pprof under /debug/pprof/ to the operator role. Off by
	// default: a CPU profile or a trace costs the whole process while it runs.
	Pprof bool `yaml:"pprof"`
}

func (c *Config) validatePassthrough() error {
	for i, b := range c.Backends {
		for j, p := range b.Passthrough.Paths {
			if !strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "*"), "*") || strings.Contains(p, "..") {
				return fmt.Errorf("backends[%d].passthrough.paths[%d]: %q must start with / and may end in * (a prefix)", i, j, p)
			}
		}
		for j, t := range b.Passthrough.Tenants {
			if _, ok := c.Tenants[t]; !ok && c.Tenants != nil {
				return fmt.Errorf("backends[%d].passthrough.tenants[%d]: unknown tenant %q", i, j, t)
			}
		}
	}
	return nil
}
