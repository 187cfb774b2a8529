// Package backend knows the inference servers the gateway talks to: each kind's
// capability profile, health path and auth header, and an OpenAI-compatible HTTP
// client that forwards request bodies without re-encoding them.
package backend

// Capability is something a request needs from a backend.
type Capability string

// Capabilities a request can need.
const (
	Chat       Capability = "chat"
	Embeddings Capability = "embeddings"
	Tools      Capability = "tools"
	Vision     Capability = "vision"
	JSONMode   Capability = "json_mode"
	Images     Capability = "images"
)

// Profile is what a backend kind can do and how to reach it.
type Profile struct {
	Caps map[Capability]bool
	// HealthPath is probed (GET, 2xx = healthy) relative to the base URL.
	HealthPath string
	// APIPrefix is prepended to /chat/completions etc.
	APIPrefix string
	// AuthHeader carries the key; AuthScheme is its prefix ("Bearer ").
	AuthHeader, AuthScheme string
	// Cloud marks hosted providers (the last tiers).
	Cloud bool
	// ListPath lists the backend's models (GET, relative to the base URL without
	// the API prefix); empty means the OpenAI-compatible APIPrefix + "/models".
	ListPath string
	// ShowPath describes one model (POST {"model": id}) where the kind says more
	// than OpenAI's model list does: Ollama's /api/show tells capabilities and
	// the context window. Empty when the kind has no such route.
	ShowPath string
}

func caps(cs ...Capability) map[Capability]bool {
	m := make(map[Capability]bool, len(cs))
	for _, c := range cs {
		m[c] = true
	}
	return m
}

// profiles are the kinds' documented OpenAI-compatible surfaces. TGI has no
// embeddings route on its Messages API; only OpenAI, LocalAI and the simulator
// generate images.
var profiles = map[string]Profile{
	"vllm":         {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/health"},
	"ollama":       {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/api/version", ListPath: "/api/tags", ShowPath: "/api/show"},
	"llamacpp":     {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/health"},
	"tgi":          {Caps: caps(Chat, Tools, Vision, JSONMode), HealthPath: "/health"},
	"sglang":       {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/health"},
	"localai":      {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Images), HealthPath: "/readyz"},
	"lmstudio":     {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/v1/models"},
	"openai":       {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Images), HealthPath: "/v1/models", Cloud: true},
	"openrouter":   {Caps: caps(Chat, Tools, Vision, JSONMode), HealthPath: "/v1/models", Cloud: true},
	"ollama-cloud": {Caps: caps(Chat, Tools, Vision, JSONMode), HealthPath: "/v1/models", Cloud: true},
	"simulator":    {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Images), HealthPath: "/health"},
}

// ProfileOf returns the profile of kind; ok is false for an unknown kind.
func ProfileOf(kind string) (Profile, bool) {
	p, ok := profiles[kind]
	if !ok {
		return Profile{}, false
	}
	if p.APIPrefix == "" {
		p.APIPrefix = "/v1"
	}
	if p.AuthHeader == "" {
		p.AuthHeader, p.AuthScheme = "Authorization", "Bearer "
	}
	if p.ListPath == "" {
		p.ListPath = p.APIPrefix + "/models"
	}
	return p, true
}

// Kinds returns every known kind.
func Kinds() []string {
	out := make([]string, 0, len(profiles))
	for k := range profiles {
		out = append(out, k)
	}
	return out
}
