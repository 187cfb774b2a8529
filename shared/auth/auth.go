// Package auth maps a bearer token to a principal (tenant, role, token name) and an
// end user from the SPASS-User-Id header. Tokens are kept only as SHA-256 digests.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"

	"spass/shared/apierr"
	"spass/shared/config"
	"spass/shared/identity"
	"spass/shared/web"
)

// UserHeader names the end user on user-scoped endpoints.
const UserHeader = "SPASS-User-Id"

// userKey is UserHeader as the server stores it; Header.Get would canonicalize
// the mixed-case name again, with an allocation, on every request.
var userKey = http.CanonicalHeaderKey(UserHeader)

// Authenticator checks bearer tokens.
type Authenticator struct {
	t atomic.Pointer[tokenTable] // swapped whole by Reload
}

// tokenTable is one generation of the configured tokens, by digest.
type tokenTable struct {
	byDigest map[[sha256.Size]byte]identity.Principal
	// operators are kept apart from the tenants' tokens: a tenant route never
	// admits one, and an operator route never admits a tenant's (see operator.go).
	operators map[[sha256.Size]byte]identity.Principal
}

// New indexes every configured token by digest.
func New(c *config.Config) *Authenticator {
	a := &Authenticator{}
	a.Reload(c)
	return a
}

// Reload replaces the tokens with c's (token digests re-read from their files on
// SIGHUP); requests already admitted keep their principal.
func (a *Authenticator) Reload(c *config.Config) {
	t := &tokenTable{byDigest: map[[sha256.Size]byte]identity.Principal{}, operators: map[[sha256.Size]byte]identity.Principal{}}
	for tenant, tn := range c.Tenants {
		for _, tok := range tn.Tokens {
			t.byDigest[digest(tok)] = identity.Principal{Tenant: tenant, Role: tok.Role, Token: tok.Name}
		}
	}
	for _, tok := range c.Operators {
		t.operators[digest(tok)] = identity.Principal{Role: tok.Role, Token: tok.Name}
	}
	a.t.Store(t)
}

func digest(tok config.Token) [sha256.Size]byte {
	var d [sha256.Size]byte
	if tok.Plain != "" {
		return sha256.Sum256([]byte(tok.Plain))
	}
	hex.Decode(d[:], []byte(tok.SHA256))
	return d
}

// Digest returns the hex SHA-256 of a token, the form gateway.yaml stores.
func Digest(token string) string {
	d := sha256.Sum256([]byte(token))
	return hex.EncodeToString(d[:])
}

// Authenticate returns the principal of the request's bearer token.
func (a *Authenticator) Authenticate(r *http.Request) (identity.Principal, error) {
	tok, err := bearer(r)
	if err != nil {
		return identity.Principal{}, err
	}
	p, ok := a.Lookup(tok)
	if !ok {
		return identity.Principal{}, apierr.E(apierr.InvalidAPIKey, "", nil)
	}
	return p, nil
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", apierr.E(apierr.MissingAPIKey, "", nil)
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		if tok, ok = strings.CutPrefix(h, "bearer "); !ok {
			return "", apierr.E(apierr.MissingAPIKey, "The Authorization header must be \"Bearer <token>\".", nil)
		}
	}
	return strings.TrimSpace(tok), nil
}

// Lookup returns the principal of a tenant's token; an operator's token is not one. The map lookup is on a digest, so its
// timing says nothing useful about the token.
func (a *Authenticator) Lookup(token string) (identity.Principal, bool) {
	p, ok := a.t.Load().byDigest[sha256.Sum256([]byte(token))]
	return p, ok
}

type principalKey struct{}

// From returns the request's principal (zero outside Require).
func From(ctx context.Context) identity.Principal {
	p, _ := ctx.Value(principalKey{}).(identity.Principal)
	return p
}

// WithPrincipal returns ctx carrying p (in-process callers such as /c1 and tests).
// It names the tenant and user in the request's trace, for its log line.
func WithPrincipal(ctx context.Context, p identity.Principal) context.Context {
	if tr := web.TraceFrom(ctx); tr != nil {
		tr.Tenant, tr.User = p.Tenant, p.User
	}
	return context.WithValue(ctx, principalKey{}, p)
}

// Require wraps a route: no valid bearer token, no entry. A user_id query parameter
// is refused on every authenticated route.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return a.wrap(next, false)
}

// RequireUser is Require plus the SPASS-User-Id header, for user-scoped routes.
func (a *Authenticator) RequireUser(next http.Handler) http.Handler {
	return a.wrap(next, true)
}

func (a *Authenticator) wrap(next http.Handler, user bool) http.Handler {
	return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.Authenticate(r)
		if err != nil {
			return err
		}
		if r.URL.RawQuery != "" && r.URL.Query().Has("user_id") {
			return apierr.P(apierr.UserIDInBody, "user_id", "")
		}
		if user {
			u := r.Header.Get(userKey)
			if !validUser(u) {
				return apierr.P(apierr.MissingUserHeader, UserHeader, "")
			}
			p.User = u
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		return nil
	})
}

func validUser(u string) bool {
	if len(u) == 0 || len(u) > 128 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] < 0x21 || u[i] > 0x7e {
			return false
		}
	}
	return true
}
