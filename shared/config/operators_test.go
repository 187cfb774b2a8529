package config_test

import (
	"strings"
	"testing"
	"time"

	"spass/shared/config"
)

const digestOfTest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" // sha256("test")

func TestOperatorsAndServerLimits(t *testing.T) {
	path := writeFile(t, `
operators:
  - {name: ops, sha256: `+digestOfTest+`}
  - {name: prometheus, sha256: 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752, role: metrics}
server: {idle_timeout: 5s, max_conns_per_client: -1}
`)
	c, err := config.Load(env(map[string]string{"SPASS_CONFIG": path,
		config.OperatorTokenEnv: "op-0123456789abcdef", config.MetricsTokenEnv: "metrics-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, o := range c.Operators {
		roles = append(roles, o.Name+":"+o.Role)
	}
	if got := strings.Join(roles, ","); got != "ops:operator,prometheus:metrics,SPASS_OPERATOR_TOKEN:operator,SPASS_METRICS_TOKEN:metrics" {
		t.Fatalf("operators %s", got)
	}
	if c.Operators[0].Digest() != digestOfTest {
		t.Fatalf("digest %s", c.Operators[0].Digest())
	}
	s := c.Server
	if s.IdleTimeout.Duration != 5*time.Second || s.BodyTimeout.Duration != config.DefaultBodyTimeout ||
		s.MaxConns != config.DefaultMaxConns || s.MaxConnsPerClient != -1 {
		t.Fatalf("server %+v", s)
	}
}

// TestOperatorTokensAreNoTenants: the operator role must be one no tenant token
// carries, so a token configured for both is refused at start, as are weak and
// malformed operator tokens.
func TestOperatorTokensAreNoTenants(t *testing.T) {
	cases := map[string]struct {
		yaml string
		env  map[string]string
		want string
	}{
		"same digest as a tenant token": {
			yaml: "tenants: {t: {tokens: [{sha256: " + digestOfTest + ", role: admin}]}}\noperators: [{sha256: " + digestOfTest + "}]\n",
			want: "operators[0]: the same token is tenants.t.tokens[0]"},
		"env token equal to an API key": {
			env:  map[string]string{"API_KEYS": "sk-shared-0123456789", config.OperatorTokenEnv: "sk-shared-0123456789"},
			want: "SPASS_OPERATOR_TOKEN: the same token is tenants.default.tokens[0]"},
		"short env token": {
			env:  map[string]string{config.MetricsTokenEnv: "short"},
			want: "SPASS_METRICS_TOKEN: an operator token needs at least 16 characters"},
		"bad digest":    {yaml: "operators: [{sha256: abc}]\n", want: "operators[0].sha256"},
		"tenant role":   {yaml: "operators: [{sha256: " + digestOfTest + ", role: admin}]\n", want: "operators[0].role"},
		"negative conn": {yaml: "server: {max_conns: -2}\n", want: "server: max_conns"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range tc.env {
				e[k] = v
			}
			if tc.yaml != "" {
				e["SPASS_CONFIG"] = writeFile(t, tc.yaml)
			}
			_, err := config.Load(env(e))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, v := range tc.env {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("the error prints a token: %v", err)
				}
			}
		})
	}
}
