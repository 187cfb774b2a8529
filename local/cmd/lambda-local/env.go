package main

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"spass/shared/auth"
	"spass/shared/config"
	"spass/shared/identity"
)

// functionEnv is the environment every function instance starts with: this
// process's, plus what the embedded default needs. The functions cannot start the
// simulator or print a dev token themselves (see lambdahttp.Config), so for the
// embedded default a gateway.yaml naming the simulator this process started (and
// the dev token's digest) is written into dir and handed over as SPASS_CONFIG.
func functionEnv(cfg *config.Config, getenv func(string) string, environ []string, dir string) ([]string, error) {
	env := append([]string(nil), environ...)
	if tok := operatorToken(cfg); tok != "" && getenv(config.OperatorTokenEnv) == "" {
		// The operator token shim.Embed kept in the data dir reaches the functions as
		// the variable a deployment would set.
		env = append(env, config.OperatorTokenEnv+"="+tok)
	}
	devToken := ""
	if getenv("API_KEYS") == "" && getenv("SPASS_CONFIG") == "" {
		devToken = token(cfg)
	}
	if cfg.Embedded && getenv("SPASS_CONFIG") != "" {
		return nil, fmt.Errorf("%s names no backends; the functions cannot start the simulator themselves", getenv("SPASS_CONFIG"))
	}
	if !cfg.Embedded {
		if devToken != "" {
			env = append(env, "API_KEYS="+devToken)
		}
		return env, nil
	}
	type target struct {
		Backend string `yaml:"backend"`
	}
	type model struct {
		ID            string   `yaml:"id"`
		Type          string   `yaml:"type"`
		Vision        bool     `yaml:"vision,omitempty"`
		ContextWindow int      `yaml:"context_window,omitempty"`
		Chain         []target `yaml:"chain"`
	}
	type token struct {
		Name   string `yaml:"name"`
		SHA256 string `yaml:"sha256"`
		Role   string `yaml:"role"`
	}
	doc := struct {
		Backends []map[string]string       `yaml:"backends"`
		Models   []model                   `yaml:"models"`
		Tenants  map[string]map[string]any `yaml:"tenants,omitempty"`
	}{}
	b := cfg.Backends[0]
	doc.Backends = []map[string]string{{"name": b.Name, "kind": b.Kind, "base_url": b.BaseURL}}
	for _, m := range cfg.Models {
		doc.Models = append(doc.Models, model{ID: m.ID, Type: m.Type, Vision: m.Vision, ContextWindow: m.ContextWindow, Chain: []target{{Backend: b.Name}}})
	}
	if devToken != "" {
		doc.Tenants = map[string]map[string]any{config.DefaultTenant: {
			"tokens": []token{{Name: "dev", SHA256: auth.Digest(devToken), Role: identity.RoleAdmin}},
		}}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path, err := filepath.Abs(filepath.Join(dir, "gateway.yaml"))
	if err != nil {
		return nil, err
	}
	header := "# Written by lambda-local for the embedded default: the simulator it started.\n"
	if err := os.WriteFile(path, append([]byte(header), out...), 0o600); err != nil {
		return nil, fmt.Errorf("writing the functions' gateway.yaml: %w", err)
	}
	return append(env, "SPASS_CONFIG="+path), nil
}

// token is a bearer token of the default tenant that this process knows in plain:
// the dev token or the first of API_KEYS; "" when tokens come from a file.
func token(cfg *config.Config) string {
	for _, t := range cfg.Tenants[config.DefaultTenant].Tokens {
		if t.Plain != "" {
			return t.Plain
		}
	}
	return ""
}

// operatorToken is an operator token this process knows in plain: SPASS_OPERATOR_TOKEN
// or the one shim.Embed keeps; "" when operators come from a file.
func operatorToken(cfg *config.Config) string {
	for _, t := range cfg.Operators {
		if t.Plain != "" && t.Role == config.RoleOperator {
			return t.Plain
		}
	}
	return ""
}
