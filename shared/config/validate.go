package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
)

// Kinds lists every backend kind the gateway can talk to; the backend package holds
// their capability profiles, and a test keeps the two lists equal.
var Kinds = []string{"vllm", "ollama", "llamacpp", "tgi", "sglang", "localai", "lmstudio", "openai", "openrouter", "ollama-cloud", "simulator", "speaches", "tei", "jina", "cohere"}

// ToolCallFormats are the values of a backend's tool_call_format; the backend
// package reads them, and a test keeps the two lists equal.
var ToolCallFormats = []string{"hermes", "mistral", "llama-json", "none"}

// ModelTypes are the values of a model's type: the routes it serves.
var ModelTypes = []string{"chat", "embedding", "image", "transcription", "speech", "moderation", "rerank"}

// presetURLs are the base URLs of the cloud presets, used when base_url is empty.
var presetURLs = map[string]string{
	"openrouter":   "https://openrouter.ai/api",
	"ollama-cloud": "https://ollama.com",
	"openai":       "https://api.openai.com",
	"jina":         "https://api.jina.ai",
	"cohere":       "https://api.cohere.com",
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (c *Config) validate() error {
	if err := c.Conversations.validate(); err != nil {
		return err
	}
	if err := c.validateBatches(); err != nil {
		return err
	}
	if err := c.Log.validate(); err != nil {
		return err
	}
	if err := c.validateMCP(); err != nil {
		return err
	}
	if err := c.Routing.Balance.validate(); err != nil {
		return err
	}
	if err := c.validatePassthrough(); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range c.Backends {
		b := &c.Backends[i]
		key := fmt.Sprintf("backends[%d]", i)
		if b.Name == "" {
			return fmt.Errorf("%s.name: required", key)
		}
		if names[b.Name] {
			return fmt.Errorf("%s.name: duplicate backend %q", key, b.Name)
		}
		names[b.Name] = true
		if !slices.Contains(Kinds, b.Kind) {
			return fmt.Errorf("%s.kind: unknown kind %q (one of %v)", key, b.Kind, Kinds)
		}
		if b.BaseURL == "" {
			b.BaseURL = presetURLs[b.Kind]
		}
		u, err := url.Parse(b.BaseURL)
		if b.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.base_url: need an http(s) URL, got %q", key, b.BaseURL)
		}
		if b.Tier < 0 || b.Tier > 4 {
			return fmt.Errorf("%s.tier: must be 1..4", key)
		}
		if b.ToolCallFormat != "" && !slices.Contains(ToolCallFormats, b.ToolCallFormat) {
			return fmt.Errorf("%s.tool_call_format: %q is not one of %v", key, b.ToolCallFormat, ToolCallFormats)
		}
	}
	ids := map[string]bool{}
	for i, m := range c.Models {
		key := fmt.Sprintf("models[%d]", i)
		if m.ID == "" {
			return fmt.Errorf("%s.id: required", key)
		}
		if ids[m.ID] {
			return fmt.Errorf("%s.id: duplicate model %q", key, m.ID)
		}
		ids[m.ID] = true
		if !slices.Contains(ModelTypes, m.Type) {
			return fmt.Errorf("%s.type: %q is not one of %v", key, m.Type, ModelTypes)
		}
		if len(m.Chain) == 0 {
			return fmt.Errorf("%s.chain: at least one backend is required", key)
		}
		if p := m.Pricing; p.Input < 0 || p.Output < 0 || p.CachedInput < 0 {
			return fmt.Errorf("%s.pricing: prices must not be negative", key)
		}
		for j, t := range m.Chain {
			if !names[t.Backend] {
				return fmt.Errorf("%s.chain[%d].backend: unknown backend %q", key, j, t.Backend)
			}
		}
	}
	for i, m := range c.Models {
		for j, o := range m.Overflow {
			if !ids[o] || o == m.ID {
				return fmt.Errorf("models[%d].overflow[%d]: %q is not another configured model", i, j, o)
			}
		}
	}
	if c.Billing.EURPerUSD < 0 {
		return fmt.Errorf("billing.eur_per_usd: must be positive")
	}
	for id, t := range c.Tenants {
		for j, tok := range t.Tokens {
			key := fmt.Sprintf("tenants.%s.tokens[%d]", id, j)
			if tok.Plain == "" && !hexSHA256.MatchString(tok.SHA256) {
				return fmt.Errorf("%s.sha256: need the lowercase hex SHA-256 of the token", key)
			}
			if !slices.Contains([]string{RoleAdmin, RoleTenantAdmin, RoleUser, RoleReadOnly}, tok.Role) {
				return fmt.Errorf("%s.role: %q is not admin, tenant_admin, user or read-only", key, tok.Role)
			}
		}
	}
	return c.validateOperators()
}
