package auth

import (
	"crypto/sha256"
	"net/http"
	"slices"

	"spass/shared/apierr"
	"spass/shared/web"
)

// RequireOperator wraps a route of gateway operation (/statsz, /metrics, the queue
// monitor): it admits only an operator's token (config operators:, or
// SPASS_OPERATOR_TOKEN and SPASS_METRICS_TOKEN) whose role is one of roles. A
// tenant's token gets 403 whatever its role: these routes show or change state of
// every tenant at once.
//
// With basic, the token may also come as the password of HTTP Basic auth, so a
// browser can open the route through its login prompt. A browser then sends the
// credentials with any request to the gateway, including a form posted from another
// site, so such a route must refuse cross-site writes itself (see admin).
func (a *Authenticator) RequireOperator(next http.Handler, basic bool, roles ...string) http.Handler {
	challenge := `Bearer realm="SPASS operator"`
	if basic {
		challenge = `Basic realm="SPASS operator"`
	}
	return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		tok, err := bearer(r)
		if basic {
			if _, pass, ok := r.BasicAuth(); ok {
				tok, err = pass, nil
			}
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", challenge)
			return err
		}
		p, ok := a.t.Load().operators[sha256.Sum256([]byte(tok))]
		if !ok {
			if _, tenant := a.Lookup(tok); tenant {
				return apierr.E(apierr.PermissionDenied, "This route is for the gateway's operators; no tenant token opens it.", nil)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			return apierr.E(apierr.InvalidAPIKey, "", nil)
		}
		if !slices.Contains(roles, p.Role) {
			return apierr.E(apierr.PermissionDenied, "The "+p.Role+" role may not use this route.", nil)
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		return nil
	})
}
