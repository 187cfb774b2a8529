// Package simulator is an OpenAI-compatible inference backend that stands in
// for vLLM, Ollama, llama.cpp and friends in the gateway's tests, benchmarks
// and local runs.
//
// Every reply is a deterministic function of the request, so tests can assert
// on exactly what came back, and the server's failure mode can be switched at
// run time (SetFault, or POST /sim/fault from another process) to exercise the
// gateway's retry, fail-over and cancellation paths against a real HTTP peer.
//
// FaultDown and FaultCut work by hijacking or aborting the connection, so they
// need a real net/http server (httptest.NewServer is fine); under
// httptest.NewRecorder they surface as a panic of http.ErrAbortHandler.
package simulator

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultModels returns the model ids served when Options.Models is empty:
// one each for chat, vision and embeddings, although every model answers
// every endpoint.
func DefaultModels() []string {
	return []string{"sim-chat", "sim-vision", "sim-embed"}
}

// Options configures a Server. The zero value is a usable, fault-free,
// unauthenticated simulator serving DefaultModels() with no artificial latency.
type Options struct {
	// Models lists the model ids served; requests naming any other model get
	// a 404 model_not_found error. Default DefaultModels().
	Models []string
	// TokenDelay is the simulated time to generate one token. Streams pause
	// this long before every content chunk, and non-streaming chat replies
	// pause for the total the stream would have taken, so latency is
	// comparable between the two. Zero means no delay at all.
	TokenDelay time.Duration
	// Fault is the initial fault mode; see SetFault.
	Fault Fault
	// APIKey, if non-empty, is required as "Authorization: Bearer <APIKey>"
	// on the /v1 routes. Health and /sim control routes stay open, as they
	// are on the real backends.
	APIKey string
	// Ollama describes served models on Ollama's /api/show, by model id; a
	// model without an entry is described by its name (see OllamaModel).
	Ollama map[string]OllamaModel
	// ToolStyle is how tool calls are written, initially; see SetToolStyle.
	ToolStyle ToolStyle
	// FirstByteDelay is waited before every chat answer's first byte, initially;
	// see SetFirstByteDelay and POST /sim/latency.
	FirstByteDelay time.Duration
	// PrefillDelay is the simulated time to prefill one prompt token that no
	// cached prefix covers (prefixcache.go): a later turn of a conversation on
	// the same instance answers its first byte sooner. Zero: no prefill time.
	PrefillDelay time.Duration
	// PrefixCache is how many prompt prefixes the instance keeps; default 4096.
	PrefixCache int
}

// Server is the simulator. It implements http.Handler and is safe for
// concurrent use; create it with New.
type Server struct {
	opts    Options
	models  []string
	served  map[string]bool
	started time.Time
	mux     *http.ServeMux
	images  *imageStore

	requests  atomic.Int64
	cancelled atomic.Int64
	firstByte atomic.Int64 // nanoseconds, see SetFirstByteDelay
	prefixes  *prefixCache

	modelsMu sync.RWMutex // guards models and served, which AddModel grows

	mu    sync.Mutex // guards the fields below
	fault Fault
	style ToolStyle
	last  []byte
}

// New returns a Server configured by o.
func New(o Options) *Server {
	s := &Server{
		opts:    o,
		served:  make(map[string]bool),
		started: time.Now(),
		fault:   o.Fault,
		style:   o.ToolStyle,
		images:  newImageStore(maxStoredImages),
	}
	s.firstByte.Store(int64(o.FirstByteDelay))
	s.prefixes = newPrefixCache(cmp.Or(o.PrefixCache, defaultPrefixCache))
	for _, m := range o.Models {
		m = strings.TrimSpace(m)
		if m != "" && !s.served[m] {
			s.served[m] = true
			s.models = append(s.models, m)
		}
	}
	if len(s.models) == 0 {
		s.models = DefaultModels()
		for _, m := range s.models {
			s.served[m] = true
		}
	}
	s.mux = s.routes()
	return s
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()

	// Health endpoints of vLLM, TGI, SGLang, llama.cpp, LocalAI and Ollama,
	// so the gateway's probes work whichever backend type it is configured
	// as.
	for _, p := range []string{"/{$}", "/health", "/healthz", "/readyz", "/api/version"} {
		mux.HandleFunc("GET "+p, s.handleHealth)
	}
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("GET /api/tags", s.handleOllamaTags)
	mux.HandleFunc("POST /api/show", s.handleOllamaShow)

	mux.Handle("POST /v1/chat/completions", s.inference(s.handleChat))
	mux.Handle("POST /v1/embeddings", s.inference(s.handleEmbeddings))
	mux.Handle("POST /v1/images/generations", s.inference(s.handleImages))
	mux.Handle("POST /v1/responses", s.inference(s.handleResponses))

	mux.Handle("POST /v1/audio/transcriptions", s.inference(s.handleTranscriptions))
	mux.Handle("POST /v1/audio/speech", s.inference(s.handleSpeech))
	mux.Handle("POST /v1/moderations", s.inference(s.handleModerations))
	mux.Handle("POST /v1/rerank", s.inference(s.handleRerank))
	mux.Handle("POST /rerank", s.inference(s.handleRerank))

	mux.HandleFunc("POST /sim/fault", s.handleSetFault)
	mux.HandleFunc("GET /sim/stats", s.handleStats)
	mux.HandleFunc("POST /sim/latency", s.handleLatency)
	mux.HandleFunc("POST /sim/models", s.handleAddModel)
	mux.HandleFunc("GET /sim/images/{file}", s.handleImageFile)

	mux.HandleFunc("/", handleUnknownRoute)
	return mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// SetFault switches the failure mode for subsequent requests. Requests
// already in flight keep the mode they started with.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Fault reports the current failure mode.
func (s *Server) Fault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

// Requests reports how many inference requests (chat, embeddings, images)
// have been received, including rejected and faulted ones.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Cancelled reports how many inference requests were abandoned by their
// client (connection closed or request context cancelled) before the
// simulator finished responding. It is how tests prove that the gateway
// propagates a client disconnect upstream.
func (s *Server) Cancelled() int64 { return s.cancelled.Load() }

// LastRequest returns a copy of the raw body of the most recent inference
// request, so tests can check exactly what the gateway forwarded.
func (s *Server) LastRequest() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.last)
}

func (s *Server) setLastRequest(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = body
}

// stats is the body of GET /sim/stats.
type stats struct {
	Requests    int64 `json:"requests"`
	Cancelled   int64 `json:"cancelled"`
	Fault       Fault `json:"fault"`
	FirstByteMS int64 `json:"first_byte_ms"`
	// PrefixHits counts chat requests a cached prefix served in part;
	// CachedTokens and PrefilledTokens are the prompt tokens it covered and
	// those prefilled (counted only with Options.PrefillDelay).
	PrefixHits      int64 `json:"prefix_hits"`
	CachedTokens    int64 `json:"cached_tokens"`
	PrefilledTokens int64 `json:"prefilled_tokens"`
}

func (s *Server) stats() stats {
	return stats{Requests: s.Requests(), Cancelled: s.Cancelled(), Fault: s.Fault(),
		FirstByteMS:     time.Duration(s.firstByte.Load()).Milliseconds(),
		PrefixHits:      s.prefixes.hits.Load(),
		CachedTokens:    s.prefixes.cached.Load(),
		PrefilledTokens: s.prefixes.prefilled.Load()}
}

// PrefixHits reports how many chat requests a cached prefix served in part.
func (s *Server) PrefixHits() int64 { return s.prefixes.hits.Load() }
