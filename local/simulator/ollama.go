package simulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OllamaModel is what the simulator's copy of Ollama's own API (GET /api/tags,
// POST /api/show) says of one served model, so a gateway's model discovery can be
// tried without an Ollama.
type OllamaModel struct {
	// Capabilities in Ollama's words: "completion", "embedding", "vision", "tools".
	Capabilities []string
	// ContextLength is model_info's "<arch>.context_length", the trained window.
	ContextLength int
	// NumCtx, when set, is the num_ctx line of the parameters, as a Modelfile
	// that sets the runtime window shows it.
	NumCtx int
}

// ollamaModel describes id: Options.Ollama's entry, else one guessed from the
// name (an "embed" model embeds, a "vision" model also reads images).
func (s *Server) ollamaModel(id string) OllamaModel {
	if m, ok := s.opts.Ollama[id]; ok {
		return m
	}
	switch {
	case strings.Contains(id, "embed"):
		return OllamaModel{Capabilities: []string{"embedding"}, ContextLength: 8192}
	case strings.Contains(id, "vision"):
		return OllamaModel{Capabilities: []string{"completion", "vision", "tools"}, ContextLength: 32768}
	}
	return OllamaModel{Capabilities: []string{"completion", "tools"}, ContextLength: 32768}
}

// handleOllamaTags implements GET /api/tags, Ollama's list of local models. Ollama
// probes answer here too, so it shares the health faults.
func (s *Server) handleOllamaTags(w http.ResponseWriter, r *http.Request) {
	if s.injectServiceFault(w) {
		return
	}
	type details struct {
		Format string `json:"format"`
		Family string `json:"family"`
	}
	type tag struct {
		Name       string  `json:"name"`
		Model      string  `json:"model"`
		ModifiedAt string  `json:"modified_at"`
		Size       int64   `json:"size"`
		Digest     string  `json:"digest"`
		Details    details `json:"details"`
	}
	ids := s.modelIDs()
	tags := make([]tag, 0, len(ids))
	for _, id := range ids {
		tags = append(tags, tag{Name: id, Model: id, ModifiedAt: s.started.Format(time.RFC3339),
			Digest: strings.Repeat("0", 64), Details: details{Format: "gguf", Family: "sim"}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": tags})
}

// handleOllamaShow implements POST /api/show {"model": id}: the model's
// capabilities, model_info (with the context length) and parameters. Like Ollama
// it finds "llama3.1" as "llama3.1:latest" and answers 404 {"error"} otherwise.
func (s *Server) handleOllamaShow(w http.ResponseWriter, r *http.Request) {
	if s.injectServiceFault(w) {
		return
	}
	var req struct{ Model, Name string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	id := req.Model
	if id == "" {
		id = req.Name // the field's name before Ollama 0.3
	}
	if !s.serves(id) && s.serves(id+":latest") {
		id += ":latest"
	}
	if !s.serves(id) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "model '" + id + "' not found"})
		return
	}
	m := s.ollamaModel(id)
	var params string
	if m.NumCtx > 0 {
		params = "num_ctx                        " + strconv.Itoa(m.NumCtx) + "\nstop                           \"<|end|>\""
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"modelfile":    "# simulated\nFROM " + id + "\n",
		"parameters":   params,
		"template":     "{{ .Prompt }}",
		"details":      map[string]any{"format": "gguf", "family": "sim", "parameter_size": "1B"},
		"model_info":   map[string]any{"general.architecture": "sim", "sim.context_length": m.ContextLength, "sim.embedding_length": defaultEmbeddingDims},
		"capabilities": m.Capabilities,
		"modified_at":  s.started.Format(time.RFC3339),
	})
}
