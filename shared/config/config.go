// Package config loads the process configuration: environment variables for a quick
// start with one backend, or gateway.yaml (path in SPASS_CONFIG) for several backends,
// model tier chains and tenants. With neither, it describes the embedded default: one
// simulator backend that local/ starts in-process.
package config

import (
	"fmt"
	"spass/shared/identity"
	"time"
)

// Config is the whole process configuration after defaults and validation.
type Config struct {
	Addr    string `yaml:"listen"`
	DataDir string `yaml:"data_dir"`

	Backends []Backend `yaml:"backends"`
	Models   []Model   `yaml:"models"`
	// Tenants maps a tenant id to its tokens and defaults.
	Tenants map[string]Tenant `yaml:"tenants"`
	Routing Routing           `yaml:"routing"`
	Billing Billing           `yaml:"billing"`
	Tools   Tools             `yaml:"tools"`
	// MCP lists the MCP tool servers every tenant's tool loop may use (see mcp.go).
	MCP MCP `yaml:"mcp"`
	// AgentsDir holds the file agents of /a1 (one YAML file each), read at start.
	AgentsDir string `yaml:"agents_dir"`
	// Conversations configures /c1 (provider choices, the default model).
	Conversations Conversations `yaml:"conversations"`
	// RedisURL enables asynq workers, shared rate limits and the response cache.
	RedisURL string `yaml:"redis_url"`
	// DatabaseURL (postgres://...) puts the store on PostgreSQL, shared by every
	// host; empty keeps it in SQLite under DataDir (the embedded default).
	DatabaseURL string `yaml:"database_url"`
	// Operators are the tokens of whoever runs the gateway (see operators.go).
	Operators []Token `yaml:"operators"`
	// Server bounds slow, idle and numerous connections (see operators.go).
	Server Server `yaml:"server"`
	// Files and Batches bound /v1/files and tune /v1/batches (see batches.go).
	Files   Files   `yaml:"files"`
	Batches Batches `yaml:"batches"`
	// Log is the process log's format and level (see logging.go).
	Log Logging `yaml:"log"`
	// Debug turns on diagnosis routes (see passthrough.go).
	Debug Debug `yaml:"debug"`

	// Embedded is true when no backend was configured: local/ starts the simulator
	// and points the "simulator" backend at it.
	Embedded bool `yaml:"-"`
	// Source says where the config came from: "env", a file path, or "embedded".
	Source string `yaml:"-"`
	// Getenv is the environment the config was loaded from; later levels of the
	// settings cascade (tenantcfg) read their SPASS_* variables through it.
	Getenv func(string) string `yaml:"-"`
}

// Backend is one inference server.
type Backend struct {
	Name    string `yaml:"name"`
	Kind    string `yaml:"kind"`
	BaseURL string `yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the backend's key, so the
	// secret never sits in gateway.yaml.
	APIKeyEnv string `yaml:"api_key_env"`
	APIKey    string `yaml:"-"`
	// Tier labels the backend's place in the hierarchy (1 = local GPU ... 4 = cloud).
	// Zero means "its position in each model's chain".
	Tier int `yaml:"tier"`
	// ToolCallFormat is the text form of tool calls the gateway turns into
	// structured calls (hermes, mistral, llama-json or none); empty means the
	// kind's default (docs/tool-calls.md).
	ToolCallFormat string `yaml:"tool_call_format"`
	// APIKeyFile names a file holding the key (secrets.go): an absolute path, or a
	// name looked up in $CREDENTIALS_DIRECTORY (systemd LoadCredential=) and then
	// /run/secrets (container secrets). Read at start and on SIGHUP.
	APIKeyFile string `yaml:"api_key_file"`
	// Passthrough opens /proxy/{name}/... to tenants (see passthrough.go).
	Passthrough Passthrough `yaml:"passthrough"`
	// ServeListed serves every model the backend lists beside the configured ones,
	// polled every routing.discover_interval (yaml discover: true). The quick-start
	// backend sets it when MODEL_NAME is empty.
	ServeListed bool `yaml:"discover"`
}

// Model is a model slug clients ask for, and the chain of backends that serve it.
type Model struct {
	ID            string   `yaml:"id"`
	Type          string   `yaml:"type"` // chat (default), embedding or image
	Vision        bool     `yaml:"vision"`
	ContextWindow int      `yaml:"context_window"`
	Chain         []Target `yaml:"chain"`
	Pricing       Pricing  `yaml:"pricing"`
	// Overflow names the models a request too long for this one's window may go
	// to instead, in order, when the tenant allows it (overflow.allow).
	Overflow []string `yaml:"overflow"`

	// Kinds are what a model without a configured type serves ("chat",
	// "embedding"), until its backend says otherwise at startup; Type is then the
	// first of them. Nil for a model with a type, which serves that type alone.
	Kinds []string `yaml:"-"`
	// Assumed marks a model the config knows only by its id (MODEL_NAME, or a
	// backend's list): its Kinds and Vision are guesses the backend's word replaces.
	Assumed bool `yaml:"-"`
}

// QuickStartModel is a model named by MODEL_NAME (or listed by the quick-start
// backend) and served by backend. Nothing pins it to a type: like any
// OpenAI-compatible server, the backend decides whether it chats or embeds, so
// both routes reach it, and it may read images unless the backend says it cannot.
func QuickStartModel(id, backend string) Model {
	return Model{ID: id, Type: "chat", Kinds: []string{"chat", "embedding"}, Vision: true, Assumed: true,
		Chain: []Target{{Backend: backend}}}
}

// Pricing is a model's price in USD per million tokens.
type Pricing struct {
	Input       float64 `yaml:"input"`
	Output      float64 `yaml:"output"`
	CachedInput float64 `yaml:"cached_input"`
}

// Tools configures the server-side stack tools and the tool loop.
type Tools struct {
	// MaxRounds bounds the tool loop: model turns that call stack tools.
	MaxRounds int `yaml:"max_rounds"`
	// Timeout bounds one tool execution.
	Timeout Duration `yaml:"timeout"`
	// WebSearchURL is a SearXNG-style endpoint: GET <url>?q=...&format=json.
	WebSearchURL string `yaml:"web_search_url"`
	// WikipediaURL is the MediaWiki API base, e.g. https://en.wikipedia.org/w/api.php.
	WikipediaURL string `yaml:"wikipedia_url"`
	// FetchAllowHosts are hosts web_fetch may reach even on private addresses.
	FetchAllowHosts []string `yaml:"fetch_allow_hosts"`
	// FetchMaxBytes bounds a fetched page.
	FetchMaxBytes int64 `yaml:"fetch_max_bytes"`
}

// Billing holds ledger settings.
type Billing struct {
	// EURPerUSD converts ledger costs to EUR.
	EURPerUSD float64 `yaml:"eur_per_usd"`
	// Disabled turns the ledger off (benchmarks compare with it on).
	Disabled bool `yaml:"disabled"`
}

// Target is one link of a model's chain.
type Target struct {
	Backend string `yaml:"backend"`
	// Model is the id the backend knows the model by; empty means the slug.
	Model string `yaml:"model"`
}

// Tenant holds a tenant's tokens and its gateway.yaml level of the settings cascade
// (keys as in package tenantcfg, e.g. "billing.markup_percent": 10).
type Tenant struct {
	Tokens   []Token        `yaml:"tokens"`
	Defaults map[string]any `yaml:"defaults"`
	// MCPServers are MCP tool servers only this tenant's tool loop uses.
	MCPServers []MCPServer `yaml:"mcp_servers"`
}

// Token is a bearer token, stored only as its SHA-256 hex digest.
type Token struct {
	Name   string `yaml:"name"`
	SHA256 string `yaml:"sha256"`
	// SHA256File names a file holding the digest instead (see Backend.APIKeyFile).
	SHA256File string `yaml:"sha256_file"`
	Role       string `yaml:"role"`
	// Plain is set only for tokens from the environment (API_KEYS, SPASS_*_TOKEN)
	// or the dev shim's kept tokens; never read from YAML.
	Plain string `yaml:"-"`
}

// Routing tunes fallback and circuit breaking.
type Routing struct {
	FirstByteTimeout Duration `yaml:"first_byte_timeout"`
	ResponseTimeout  Duration `yaml:"response_timeout"`
	BreakerFailures  int      `yaml:"breaker_failures"`
	BreakerCooldown  Duration `yaml:"breaker_cooldown"`
	HealthTTL        Duration `yaml:"health_ttl"`
	// Balance tunes the choice among backends of one tier (routing.go).
	Balance `yaml:",inline"`
}

// Duration reads "30s" style values from YAML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (e.g. 30s): %q", b)
	}
	d.Duration = v
	return nil
}

// Roles, from most to least privileged.
const (
	RoleAdmin       = identity.RoleAdmin
	RoleTenantAdmin = identity.RoleTenantAdmin
	RoleUser        = identity.RoleUser
	RoleReadOnly    = identity.RoleReadOnly
)

// DefaultTenant is the tenant of API_KEYS tokens and of the dev token.
const DefaultTenant = "default"

func (c *Config) applyDefaults() {
	c.Conversations.applyDefaults()
	c.applyBatchDefaults()
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	r := &c.Routing
	if r.FirstByteTimeout.Duration == 0 {
		r.FirstByteTimeout.Duration = 30 * time.Second
	}
	if r.ResponseTimeout.Duration == 0 {
		r.ResponseTimeout.Duration = 10 * time.Minute
	}
	if r.BreakerFailures == 0 {
		r.BreakerFailures = 5
	}
	if r.BreakerCooldown.Duration == 0 {
		r.BreakerCooldown.Duration = 30 * time.Second
	}
	if c.Tools.MaxRounds == 0 {
		c.Tools.MaxRounds = 5
	}
	if c.Tools.Timeout.Duration == 0 {
		c.Tools.Timeout.Duration = 15 * time.Second
	}
	if c.Tools.FetchMaxBytes == 0 {
		c.Tools.FetchMaxBytes = 2 << 20
	}
	if c.Billing.EURPerUSD == 0 {
		c.Billing.EURPerUSD = 0.92
	}
	if r.HealthTTL.Duration == 0 {
		r.HealthTTL.Duration = 5 * time.Second
	}
	r.Balance.applyDefaults()
	for i := range c.Models {
		if m := &c.Models[i]; m.Type == "" {
			// Chat unless the backend says otherwise (router discovery).
			m.Type, m.Kinds = "chat", []string{"chat"}
		}
	}
	c.securityDefaults()
}
