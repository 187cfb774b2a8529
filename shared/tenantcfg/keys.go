// Package tenantcfg resolves per-tenant settings through a three-level cascade:
// the process (built-in defaults, overridable by SPASS_* environment variables),
// gateway.yaml (tenants.<id>.defaults) and the tenant's own overrides in the store.
// Every key is declared once here with its type, bounds and documentation.
package tenantcfg

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"spass/shared/redact"
)

// Kind is a key's value type.
type Kind string

// Value kinds.
const (
	Int     Kind = "integer"
	Float   Kind = "number"
	Bool    Kind = "boolean"
	String  Kind = "string"
	Strings Kind = "array"
)

// Key declares one setting.
type Key struct {
	Name    string
	Kind    Kind
	Default any
	Min     float64 // for Int and Float
	Max     float64
	Pattern *regexp.Regexp // for String
	// Each, when set, checks every entry of a Strings key (a custom redaction
	// pattern must compile).
	Each func(string) error
	Doc  string
}

// Names of the keys other packages read.
const (
	CompactionThreshold = "compaction.threshold"
	CompactionKeepTurns = "compaction.keep_last_turns"
	ImageModel          = "image_gen.model"
	ImageSize           = "image_gen.size"
	ImageMaxN           = "image_gen.max_n"
	ModelAllowlist      = "models.allowlist"
	ModelBlacklist      = "models.blacklist"
	ToolAllowlist       = "tools.allowlist"
	MarkupPercent       = "billing.markup_percent"
	BatchDiscount       = "billing.batch_discount_percent"
	TenantRPM           = "ratelimit.requests_per_minute"
	TenantTPM           = "ratelimit.tokens_per_minute"
	UserRPM             = "ratelimit.user_requests_per_minute"
	UserTPM             = "ratelimit.user_tokens_per_minute"
	CacheEnabled        = "cache.enabled"
	CacheTTL            = "cache.ttl_seconds"
	RAGEmbeddingModel   = "rag.embedding_model"
	RedactionCloud      = "redaction.cloud"
	RedactionPatterns   = "redaction.patterns"
	OverflowAllow       = "overflow.allow"
	MCPServers          = "mcp.servers"
	ModerationModel     = "moderation.model"
)

// Keys lists every setting, in the order the API shows them.
var Keys = []Key{
	{Name: CompactionThreshold, Kind: Float, Default: 0.8, Min: 0.1, Max: 0.99, Doc: "fraction of the context window above which agent sessions are compacted"},
	{Name: CompactionKeepTurns, Kind: Int, Default: int64(4), Min: 0, Max: 100, Doc: "turns kept verbatim after a compaction"},
	{Name: ImageModel, Kind: String, Default: "", Doc: "model slug used by image generation (empty: the first image model)"},
	{Name: ImageSize, Kind: String, Default: "1024x1024", Pattern: regexp.MustCompile(`^\d{2,4}x\d{2,4}$`), Doc: "default image size WxH"},
	{Name: ImageMaxN, Kind: Int, Default: int64(4), Min: 1, Max: 10, Doc: "most images per generation request"},
	{Name: ModelAllowlist, Kind: Strings, Default: []string{}, Doc: "model slugs the tenant may use; empty allows all"},
	{Name: ModelBlacklist, Kind: Strings, Default: []string{}, Doc: "model slugs the tenant may not use (wins over the allowlist)"},
	{Name: ToolAllowlist, Kind: Strings, Default: []string{"*"}, Doc: "server-side stack tools injected into chats; \"*\" allows all"},
	{Name: MarkupPercent, Kind: Float, Default: 0.0, Min: 0, Max: 1000, Doc: "percent added to the backend cost in the ledger"},
	{Name: BatchDiscount, Kind: Float, Default: 50.0, Min: 0, Max: 100, Doc: "percent taken off the cost of batch lines (/v1/batches), after the markup"},
	{Name: TenantRPM, Kind: Int, Default: int64(0), Min: 0, Max: 1e9, Doc: "requests per minute for the whole tenant; 0 is unlimited"},
	{Name: TenantTPM, Kind: Int, Default: int64(0), Min: 0, Max: 1e12, Doc: "tokens per minute for the whole tenant; 0 is unlimited"},
	{Name: UserRPM, Kind: Int, Default: int64(0), Min: 0, Max: 1e9, Doc: "requests per minute per end user; 0 is unlimited"},
	{Name: UserTPM, Kind: Int, Default: int64(0), Min: 0, Max: 1e12, Doc: "tokens per minute per end user; 0 is unlimited"},
	{Name: CacheEnabled, Kind: Bool, Default: false, Doc: "cache answers to deterministic requests (temperature 0 or a seed) in Redis"},
	{Name: CacheTTL, Kind: Int, Default: int64(300), Min: 1, Max: 86400, Doc: "seconds a cached answer lives"},
	{Name: MCPServers, Kind: Strings, Default: []string{"*"}, Doc: "MCP tool servers of gateway.yaml whose tools chats are offered; \"*\" allows all"},
	{Name: RAGEmbeddingModel, Kind: String, Default: "", Doc: "embedding model of new RAG indices that name none (empty: the first embedding model)"},
	{Name: RedactionCloud, Kind: Bool, Default: false, Doc: "redact e-mail addresses, phone numbers, card numbers, keys and redaction.patterns from requests sent to cloud tiers; answers get them back"},
	{Name: RedactionPatterns, Kind: Strings, Default: []string{}, Each: checkPattern, Doc: "extra regular expressions (RE2) redacted as [REDACTED_n]; a capture group redacts the group only"},
	{Name: OverflowAllow, Kind: Bool, Default: false, Doc: "send a request longer than the model's context window to the model's overflow chain instead of refusing it"},
	{Name: ModerationModel, Kind: String, Default: "", Doc: "model of POST /v1/moderations that names none: a moderation model, or a chat model that classifies like Llama Guard (empty: the first moderation model)"},
}

// checkPattern refuses a redaction pattern that does not compile or that
// matches the empty string.
func checkPattern(p string) error {
	_, err := redact.CheckPattern(p)
	return err
}

// Lookup returns the key named name.
func Lookup(name string) (Key, bool) {
	i := slices.IndexFunc(Keys, func(k Key) bool { return k.Name == name })
	if i < 0 {
		return Key{}, false
	}
	return Keys[i], true
}

// EnvName is the process-level variable of a key: SPASS_ + upper-cased, dots to _.
func EnvName(key string) string {
	return "SPASS_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Normalize checks v (decoded JSON or YAML) against the key and returns it in its
// canonical Go type: int64, float64, bool, string or []string.
func (k Key) Normalize(v any) (any, error) {
	switch k.Kind {
	case Int:
		f, ok := number(v)
		if !ok || f != float64(int64(f)) {
			return nil, fmt.Errorf("%s must be an integer", k.Name)
		}
		if f < k.Min || f > k.Max {
			return nil, fmt.Errorf("%s must be between %g and %g", k.Name, k.Min, k.Max)
		}
		return int64(f), nil
	case Float:
		f, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("%s must be a number", k.Name)
		}
		if f < k.Min || f > k.Max {
			return nil, fmt.Errorf("%s must be between %g and %g", k.Name, k.Min, k.Max)
		}
		return f, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s must be true or false", k.Name)
		}
		return b, nil
	case String:
		s, ok := v.(string)
		if !ok || len(s) > 256 {
			return nil, fmt.Errorf("%s must be a string of at most 256 characters", k.Name)
		}
		if k.Pattern != nil && s != "" && !k.Pattern.MatchString(s) {
			return nil, fmt.Errorf("%s must match %s", k.Name, k.Pattern)
		}
		return s, nil
	case Strings:
		list, ok := v.([]any)
		if !ok {
			if ss, isSS := v.([]string); isSS {
				for _, e := range ss {
					if k.Each != nil {
						if err := k.Each(e); err != nil {
							return nil, fmt.Errorf("%s: %w", k.Name, err)
						}
					}
				}
				return slices.Clone(ss), nil
			}
			return nil, fmt.Errorf("%s must be an array of strings", k.Name)
		}
		out := make([]string, 0, len(list))
		for _, e := range list {
			s, ok := e.(string)
			if !ok || s == "" || len(s) > 256 {
				return nil, fmt.Errorf("%s must be an array of non-empty strings", k.Name)
			}
			if k.Each != nil {
				if err := k.Each(s); err != nil {
					return nil, fmt.Errorf("%s: %w", k.Name, err)
				}
			}
			out = append(out, s)
		}
		if len(out) > 1000 {
			return nil, fmt.Errorf("%s has more than 1000 entries", k.Name)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: unknown kind", k.Name)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
