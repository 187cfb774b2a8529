package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"spass/shared/identity"
)

// The environment variables of the operator's tokens. Each adds one token, kept in
// plain only in memory, like API_KEYS.
const (
	// OperatorTokenEnv holds a token with the operator role: /statsz, /metrics and
	// the queue monitor.
	OperatorTokenEnv = "SPASS_OPERATOR_TOKEN"
	// MetricsTokenEnv holds a token with the metrics role, for Prometheus's
	// bearer_token: /metrics and /statsz only.
	MetricsTokenEnv = "SPASS_METRICS_TOKEN"
)

// Roles of the operators: list, not of any tenant.
const (
	RoleOperator = identity.RoleOperator
	RoleMetrics  = identity.RoleMetrics
)

// minPlainOperatorToken is the shortest operator token accepted from the
// environment: an operator token opens every tenant's counters, so a guessable one
// is a configuration error rather than a choice.
const minPlainOperatorToken = 16

// Server bounds what slow, idle and numerous clients can hold of the HTTP server.
// Nothing bounds how long a response takes: a stream that keeps moving is never cut.
type Server struct {
	// IdleTimeout closes a keep-alive connection that carried no request this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// BodyTimeout bounds reading one request's body, counted from the start of the
	// request; a body trickled slower than that is cut with 408.
	BodyTimeout Duration `yaml:"body_timeout"`
	// MaxConns bounds the open connections of the whole server; -1 means unbounded.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerClient bounds the open connections from one IP address; -1 means
	// unbounded. Behind a reverse proxy every client has the proxy's address, so
	// raise it (or set -1) and bound clients at the proxy.
	MaxConnsPerClient int `yaml:"max_conns_per_client"`
	// ShutdownTimeout is how long running requests and streams get to finish once
	// the process is told to stop (SIGTERM, Ctrl-C); the ones still running then are
	// cut and logged (SPASS_SHUTDOWN_TIMEOUT overrides it).
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Defaults of Server.
const (
	DefaultIdleTimeout       = 60 * time.Second
	DefaultBodyTimeout       = 60 * time.Second
	DefaultMaxConns          = 4096
	DefaultMaxConnsPerClient = 256
)

// Digest returns the token's lowercase hex SHA-256, the form gateway.yaml stores.
func (t Token) Digest() string {
	if t.Plain == "" {
		return strings.ToLower(t.SHA256)
	}
	d := sha256.Sum256([]byte(t.Plain))
	return hex.EncodeToString(d[:])
}

// applyOperatorEnv adds the operator tokens of the environment.
func applyOperatorEnv(c *Config, getenv func(string) string) {
	for _, e := range []struct{ env, role string }{{OperatorTokenEnv, RoleOperator}, {MetricsTokenEnv, RoleMetrics}} {
		if v := strings.TrimSpace(getenv(e.env)); v != "" {
			c.Operators = append(c.Operators, Token{Name: e.env, Plain: v, Role: e.role})
		}
	}
}

func (c *Config) securityDefaults() {
	for i := range c.Operators {
		if c.Operators[i].Role == "" {
			c.Operators[i].Role = RoleOperator
		}
	}
	s := &c.Server
	if s.IdleTimeout.Duration == 0 {
		s.IdleTimeout.Duration = DefaultIdleTimeout
	}
	if s.BodyTimeout.Duration == 0 {
		s.BodyTimeout.Duration = DefaultBodyTimeout
	}
	if s.MaxConns == 0 {
		s.MaxConns = DefaultMaxConns
	}
	if s.MaxConnsPerClient == 0 {
		s.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	if s.ShutdownTimeout.Duration == 0 {
		s.ShutdownTimeout.Duration = DefaultShutdownTimeout
	}
}

// validateOperators checks the operators' tokens and the server's limits. A token
// that is both a tenant's and an operator's is refused: the operator role must be
// one no tenant token carries, whatever the tenant's own role.
func (c *Config) validateOperators() error {
	tenantTokens := map[string]string{}
	ids := make([]string, 0, len(c.Tenants))
	for id := range c.Tenants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for j, tok := range c.Tenants[id].Tokens {
			tenantTokens[tok.Digest()] = fmt.Sprintf("tenants.%s.tokens[%d]", id, j)
		}
	}
	for i, tok := range c.Operators {
		key := fmt.Sprintf("operators[%d]", i)
		if tok.Plain != "" {
			key = tok.Name // the environment variable; its value is never printed
			if len(tok.Plain) < minPlainOperatorToken {
				return fmt.Errorf("%s: an operator token needs at least %d characters", key, minPlainOperatorToken)
			}
		} else if !hexSHA256.MatchString(tok.SHA256) {
			return fmt.Errorf("%s.sha256: need the lowercase hex SHA-256 of the token", key)
		}
		if tok.Role != RoleOperator && tok.Role != RoleMetrics {
			return fmt.Errorf("%s.role: %q is not operator or metrics", key, tok.Role)
		}
		if other, ok := tenantTokens[tok.Digest()]; ok {
			return fmt.Errorf("%s: the same token is %s; an operator token must belong to no tenant", key, other)
		}
	}
	s := c.Server
	if s.IdleTimeout.Duration < 0 || s.BodyTimeout.Duration < 0 || s.ShutdownTimeout.Duration < 0 {
		return fmt.Errorf("server: idle_timeout, body_timeout and shutdown_timeout must be positive")
	}
	if s.MaxConns < -1 || s.MaxConnsPerClient < -1 {
		return fmt.Errorf("server: max_conns and max_conns_per_client must be positive (-1: unbounded)")
	}
	return nil
}
