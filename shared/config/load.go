package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the configuration from the environment (getenv) and, when SPASS_CONFIG
// names a file, from that gateway.yaml. Errors name the offending key.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{Getenv: getenv}
	if path := getenv("SPASS_CONFIG"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("SPASS_CONFIG: %w", err)
		}
		if err := decodeYAML(b, c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.Source = path
	}
	if err := applyEnv(c, getenv); err != nil {
		return nil, err
	}
	applyOperatorEnv(c, getenv)
	if len(c.Backends) == 0 {
		embed(c)
	}
	c.applyDefaults()
	for i := range c.Backends {
		b := &c.Backends[i]
		if b.APIKeyEnv != "" {
			b.APIKey = getenv(b.APIKeyEnv)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeYAML(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)                                            // a typo in a key fails at start, naming the key
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file is the zero config
		return err
	}
	return nil
}

// applyEnv layers the quick-start variables over the file.
func applyEnv(c *Config, getenv func(string) string) error {
	if v := getenv("SPASS_ADDR"); v != "" {
		c.Addr = v
	}
	if v := getenv("SPASS_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if v := getenv("SPASS_AGENTS_DIR"); v != "" {
		c.AgentsDir = v
	}
	if v := getenv("REDIS_URL"); v != "" {
		c.RedisURL = v
	}
	if kind := getenv("BACKEND_KIND"); kind != "" {
		models := splitList(getenv("MODEL_NAME"))
		// Without MODEL_NAME the gateway serves what the backend lists at startup.
		b := Backend{Name: "env-" + kind, Kind: kind, BaseURL: getenv("BACKEND_BASE_URL"), APIKeyEnv: "BACKEND_API_KEY",
			ToolCallFormat: getenv("BACKEND_TOOL_CALL_FORMAT"), ServeListed: len(models) == 0}
		c.Backends = append(c.Backends, b)
		for _, m := range models {
			c.Models = append(c.Models, QuickStartModel(m, b.Name))
		}
		if c.Source == "" {
			c.Source = "env"
		}
	}
	if keys := splitList(getenv("API_KEYS")); len(keys) > 0 {
		if c.Tenants == nil {
			c.Tenants = map[string]Tenant{}
		}
		t := c.Tenants[DefaultTenant]
		for i, k := range keys {
			t.Tokens = append(t.Tokens, Token{Name: fmt.Sprintf("API_KEYS[%d]", i), Plain: k, Role: RoleTenantAdmin})
		}
		c.Tenants[DefaultTenant] = t
	}
	return nil
}

// SimulatorModels are the models of the embedded default.
var SimulatorModels = []Model{
	{ID: "sim-chat", Type: "chat", ContextWindow: 32768},
	{ID: "sim-vision", Type: "chat", Vision: true, ContextWindow: 32768},
	{ID: "sim-embed", Type: "embedding", ContextWindow: 8192},
	{ID: "sim-image", Type: "image"},
}

// embed fills in the embedded default: one simulator backend serving SimulatorModels.
func embed(c *Config) {
	c.Embedded = true
	if c.Source == "" {
		c.Source = "embedded"
	}
	c.Backends = []Backend{{Name: "simulator", Kind: "simulator", BaseURL: "http://simulator.invalid"}}
	c.Models = nil
	for _, m := range SimulatorModels {
		m.Chain = []Target{{Backend: "simulator"}}
		c.Models = append(c.Models, m)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
