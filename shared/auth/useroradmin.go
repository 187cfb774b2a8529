package auth

import (
	"net/http"

	"spass/shared/apierr"
	"spass/shared/web"
)

// RequireUserOrAdmin is Require plus SPASS-User-Id, which a role that may change
// tenant state (admin, tenant_admin) may omit to read across its tenant's users.
// A principal without User is such a tenant-wide reader.
func (a *Authenticator) RequireUserOrAdmin(next http.Handler) http.Handler {
	return a.Require(web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		p := From(r.Context())
		u := r.Header.Get(userKey)
		if u == "" && p.CanWrite() {
			next.ServeHTTP(w, r)
			return nil
		}
		if !validUser(u) {
			return apierr.P(apierr.MissingUserHeader, UserHeader, "")
		}
		p.User = u
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		return nil
	}))
}
