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
	// Responses is OpenAI's Responses API (/v1/responses) served natively; other
	// chat backends get it translated to Chat Completions by the gateway.
	Responses Capability = "responses"
	// AudioIn is speech to text (/audio/transcriptions), AudioOut text to speech
	// (/audio/speech), Moderation a /moderations route, Rerank a rerank route
	// (RerankPath): each only where the kind serves it.
	AudioIn    Capability = "audio_in"
	AudioOut   Capability = "audio_out"
	Moderation Capability = "moderation"
	Rerank     Capability = "rerank"
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
	// ToolCalls is the text form of tool calls the kind's models write when the
	// server's own tool parser is off or fails (see ToolCallFormat); a backend's
	// tool_call_format in gateway.yaml overrides it.
	ToolCalls ToolCallFormat
	// RerankPath is the kind's rerank route relative to the base URL without the
	// API prefix; RerankTEI says it speaks TEI's shape ({query, texts} in, a bare
	// array of {index, score} out) rather than Cohere's and Jina's.
	RerankPath string
	RerankTEI  bool
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
// generate images. vLLM, SGLang and llama.cpp pass a model's text through when
// their tool parser is off or does not match the model: Hermes/Qwen text is the
// commonest, so they default to it; the others parse calls themselves.
var profiles = map[string]Profile{
	"vllm":         {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Responses, AudioIn, Rerank), HealthPath: "/health", ToolCalls: ToolCallsHermes, RerankPath: "/v1/rerank"},
	"ollama":       {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/api/version", ListPath: "/api/tags", ShowPath: "/api/show"},
	"llamacpp":     {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Rerank), HealthPath: "/health", ToolCalls: ToolCallsHermes, RerankPath: "/v1/rerank"},
	"tgi":          {Caps: caps(Chat, Tools, Vision, JSONMode), HealthPath: "/health"},
	"sglang":       {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/health", ToolCalls: ToolCallsHermes},
	"localai":      {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Images, AudioIn, AudioOut, Rerank), HealthPath: "/readyz", RerankPath: "/v1/rerank"},
	"lmstudio":     {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode), HealthPath: "/v1/models"},
	"openai":       {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Images, Responses, AudioIn, AudioOut, Moderation), HealthPath: "/v1/models", Cloud: true},
	"openrouter":   {Caps: caps(Chat, Tools, Vision, JSONMode), HealthPath: "/v1/models", Cloud: true},
	"ollama-cloud": {Caps: caps(Chat, Tools, Vision, JSONMode), HealthPath: "/v1/models", Cloud: true},
	"simulator":    {Caps: caps(Chat, Embeddings, Tools, Vision, JSONMode, Images, AudioIn, AudioOut, Moderation, Rerank), HealthPath: "/health", RerankPath: "/v1/rerank"},
	// Speaches (formerly faster-whisper-server) and other OpenAI-compatible
	// Whisper/TTS servers: audio only.
	"speaches": {Caps: caps(AudioIn, AudioOut), HealthPath: "/health"},
	// Hugging Face text-embeddings-inference: embeddings, and rerank with a
	// cross-encoder model, in its own shape.
	"tei": {Caps: caps(Embeddings, Rerank), HealthPath: "/health", RerankPath: "/rerank", RerankTEI: true},
	// The hosted rerankers, Cohere/Jina shape.
	"jina":   {Caps: caps(Embeddings, Rerank), HealthPath: "/v1/models", Cloud: true, RerankPath: "/v1/rerank"},
	"cohere": {Caps: caps(Rerank), HealthPath: "/v1/models", Cloud: true, RerankPath: "/v2/rerank"},
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
	if p.ToolCalls == "" {
		p.ToolCalls = ToolCallsNone
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

// ToolCallFormat is a text form of tool calls: what a model writes in its content
// when the server does not turn it into tool_calls. The gateway turns the text into
// structured tool calls for requests that offer tools (see shared/chat).
type ToolCallFormat string

// The text forms the gateway reads.
const (
	// ToolCallsNone leaves content as it is.
	ToolCallsNone ToolCallFormat = "none"
	// ToolCallsHermes is Hermes and Qwen: <tool_call>{"name":…,"arguments":{…}}</tool_call>.
	ToolCallsHermes ToolCallFormat = "hermes"
	// ToolCallsMistral is Mistral: [TOOL_CALLS][{"name":…,"arguments":{…}}], or
	// [TOOL_CALLS]name[ARGS]{…} of the newer tokenizers.
	ToolCallsMistral ToolCallFormat = "mistral"
	// ToolCallsLlamaJSON is Llama 3.x/4 JSON: the content is {"name":…,"parameters":{…}}
	// (calls separated by ";", optionally after <|python_tag|>).
	ToolCallsLlamaJSON ToolCallFormat = "llama-json"
)

// ToolCallFormats lists every format, in the order the docs give them.
func ToolCallFormats() []ToolCallFormat {
	return []ToolCallFormat{ToolCallsHermes, ToolCallsMistral, ToolCallsLlamaJSON, ToolCallsNone}
}
