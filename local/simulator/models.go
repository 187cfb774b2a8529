package simulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// AddModel serves id from now on, as when a model is pulled into Ollama or a
// vLLM replica starts: it joins /v1/models and /api/tags and answers requests.
// It reports whether the model is new.
func (s *Server) AddModel(id string) bool {
	id = strings.TrimSpace(id)
	s.modelsMu.Lock()
	defer s.modelsMu.Unlock()
	if id == "" || s.served[id] {
		return false
	}
	s.served[id] = true
	s.models = append(slices.Clip(s.models), id) // readers keep the old slice
	return true
}

// modelIDs returns the served model ids in the order they were added.
func (s *Server) modelIDs() []string {
	s.modelsMu.RLock()
	defer s.modelsMu.RUnlock()
	return s.models
}

// serves reports whether id is served.
func (s *Server) serves(id string) bool {
	s.modelsMu.RLock()
	defer s.modelsMu.RUnlock()
	return s.served[id]
}

// handleAddModel implements POST /sim/models {"id":"new-model"}: 201 when the
// model is new, 200 when it was served already; the body is the model list.
func (s *Server) handleAddModel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
		writeError(w, errInvalidJSON(err))
		return
	}
	if strings.TrimSpace(req.ID) == "" {
		writeError(w, errMissingParam("id"))
		return
	}
	status := http.StatusOK
	if s.AddModel(req.ID) {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"models": s.modelIDs()})
}
