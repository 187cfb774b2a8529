package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
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
	if err := c.applyBatchEnv(getenv); err != nil {
		return nil, err
	}
	if err := applyLogEnv(c, getenv); err != nil {
		return nil, err
	}
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
	if err := c.LoadSecrets(); err != nil {
		return nil, err
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
	if v := getenv("DATABASE_URL"); v != "" {
		c.DatabaseURL = v
	}
	if err := checkQuickStart(getenv); err != nil {
		return err
	}
	if kind := getenv("BACKEND_KIND"); kind != "" {
		models := splitList(getenv("MODEL_NAME"))
		// Without MODEL_NAME the gateway serves what the backend lists at startup.
		b := Backend{Name: "env-" + kind, Kind: kind, BaseURL: getenv("BACKEND_BASE_URL"), APIKeyEnv: "BACKEND_API_KEY",
			APIKeyFile: getenv("BACKEND_API_KEY_FILE"), ToolCallFormat: getenv("BACKEND_TOOL_CALL_FORMAT"), ServeListed: len(models) == 0}
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

// checkQuickStart checks the one-backend variables in the order a reader sets them,
// naming the variable: BACKEND_KIND first, then BACKEND_BASE_URL, then MODEL_NAME.
// A backend's URL or models without its kind would be silently ignored, so they are
// an error.
func checkQuickStart(getenv func(string) string) error {
	kind := strings.TrimSpace(getenv("BACKEND_KIND"))
	if kind == "" {
		for _, v := range []string{"BACKEND_BASE_URL", "MODEL_NAME"} {
			if strings.TrimSpace(getenv(v)) != "" {
				return fmt.Errorf("%s is set but BACKEND_KIND is not: set BACKEND_KIND (one of %s) for the one backend, "+
					"or describe backends and models in gateway.yaml (SPASS_CONFIG)", v, kindList())
			}
		}
		return nil
	}
	if !slices.Contains(Kinds, kind) { // "simulator" too: the tests and lambda-local use it
		return fmt.Errorf("BACKEND_KIND: unknown kind %q (one of %s)", kind, kindList())
	}
	base := strings.TrimSpace(getenv("BACKEND_BASE_URL"))
	if base == "" {
		if presetURLs[kind] != "" {
			return nil
		}
		return fmt.Errorf("BACKEND_BASE_URL is required with BACKEND_KIND=%s: the server's URL, e.g. BACKEND_BASE_URL=http://127.0.0.1:8000", kind)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("BACKEND_BASE_URL: need an http(s) URL such as http://127.0.0.1:8000, got %q", base)
	}
	if getenv("MODEL_NAME") != "" && len(splitList(getenv("MODEL_NAME"))) == 0 {
		return errors.New("MODEL_NAME: no model id in it; give comma-separated ids, or leave it unset to serve every model the backend lists")
	}
	return nil
}

// SimulatorModels are the models of the embedded default.
var SimulatorModels = []Model{
	{ID: "sim-chat", Type: "chat", ContextWindow: 32768},
	{ID: "sim-vision", Type: "chat", Vision: true, ContextWindow: 32768},
	{ID: "sim-embed", Type: "embedding", ContextWindow: 8192},
	{ID: "sim-image", Type: "image"},
	{ID: "sim-whisper", Type: "transcription"},
	{ID: "sim-tts", Type: "speech"},
	{ID: "sim-moderation", Type: "moderation"},
	{ID: "sim-rerank", Type: "rerank"},
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
