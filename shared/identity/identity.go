// Package identity holds who is calling: the principal a bearer token maps to, and
// the roles. It is a leaf package, so the store, the tools and every surface can
// name a principal without importing the HTTP authentication code.
package identity

// Roles, from most to least privileged. The operator runs the gateway itself
// (queues, /statsz, pprof, /proxy); no tenant token has it. RoleMetrics is a
// scraper's: it reads /metrics and /statsz and nothing else. Neither belongs to a
// tenant, so neither passes the authentication of a tenant route.
const (
	RoleOperator    = "operator"
	RoleMetrics     = "metrics"
	RoleAdmin       = "admin"
	RoleTenantAdmin = "tenant_admin"
	RoleUser        = "user"
	RoleReadOnly    = "read-only"
)

// Principal is who is calling.
type Principal struct {
	Tenant string
	Role   string
	Token  string // the token's configured name, never the token
	User   string // from SPASS-User-Id; empty on endpoints that are not user-scoped
}

// CanWrite reports whether the role may change tenant state.
func (p Principal) CanWrite() bool {
	return p.Role == RoleAdmin || p.Role == RoleTenantAdmin
}
