package simulator

import (
	"encoding/json"
	"net/http"
)

// handleHealth answers the health probes of every backend type the gateway
// supports. Only faults that make the backend look dead affect it.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.injectServiceFault(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type modelList struct {
	Object string  `json:"object"`
	Data   []model `json:"data"`
}

type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// handleModels implements GET /v1/models, which gateways use both for model
// discovery and as a liveness check, so it shares the health faults.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	if s.injectServiceFault(w) {
		return
	}
	if !s.authorized(r) {
		writeError(w, errUnauthorized())
		return
	}
	ids := s.modelIDs()
	list := modelList{Object: "list", Data: make([]model, 0, len(ids))}
	for _, id := range ids {
		list.Data = append(list.Data, model{
			ID:      id,
			Object:  "model",
			Created: s.started.Unix(),
			OwnedBy: "simulator",
		})
	}
	writeJSON(w, http.StatusOK, list)
}

// handleSetFault implements POST /sim/fault {"fault":"429"}, letting scripts
// in other processes (benchmarks, make run) break the backend on purpose.
// It answers with the stats after the change.
func (s *Server) handleSetFault(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Fault *string `json:"fault"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
		writeError(w, errInvalidJSON(err))
		return
	}
	if req.Fault == nil {
		writeError(w, errMissingParam("fault"))
		return
	}
	f, err := ParseFault(*req.Fault)
	if err != nil {
		writeError(w, errInvalidParam("fault", "%v", err))
		return
	}
	s.SetFault(f)
	writeJSON(w, http.StatusOK, s.stats())
}

// handleStats implements GET /sim/stats.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.stats())
}

// handleUnknownRoute answers like OpenAI does for a path or method it does
// not serve, so misrouted gateway requests fail loudly and recognisably.
func handleUnknownRoute(w http.ResponseWriter, r *http.Request) {
	writeError(w, errNotFound(r))
}
