package openai

import (
	"net/http"
	"strconv"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/router"
	"spass/shared/web"
)

// model is OpenAI's Model object.
type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type modelList struct {
	Object string  `json:"object"`
	Data   []model `json:"data"`
}

func toModel(a *app.App, m *router.Model) model {
	return model{ID: m.ID, Object: "model", Created: a.Started.Unix(), OwnedBy: "spass"}
}

// listModels serves "GET /v1/models".
func listModels(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		eff, err := a.Settings.Effective(r.Context(), auth.From(r.Context()).Tenant)
		if err != nil {
			return err
		}
		out := modelList{Object: "list", Data: []model{}}
		for _, m := range a.Router.Models() {
			if eff.ModelAllowed(m.ID) {
				out.Data = append(out.Data, toModel(a, m))
			}
		}
		return web.JSON(w, http.StatusOK, out)
	}
}

// getModel serves "GET /v1/models/{model}".
func getModel(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		eff, err := a.Settings.Effective(r.Context(), auth.From(r.Context()).Tenant)
		if err != nil {
			return err
		}
		m := a.Router.Model(r.PathValue("model"))
		if m == nil || !eff.ModelAllowed(m.ID) {
			return apierr.P(apierr.ModelNotFound, "model", "The model "+apierr.Quote(r.PathValue("model"))+" does not exist or is not served by this gateway.")
		}
		return web.JSON(w, http.StatusOK, toModel(a, m))
	}
}

// modelInfo describes what a model can do, so clients pick one that fits.
type modelInfo struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Types are the routes the model serves, Type first: a model the quick start
	// only named serves chat and embeddings, as its backend decides.
	Types      []string   `json:"types"`
	Modalities modalities `json:"modalities"`
	Tools      bool       `json:"tools"`
	JSONMode   bool       `json:"json_mode"`
	Embeddings bool       `json:"embeddings"`
	// Responses says the model answers /v1/responses; ResponsesNative that a
	// backend of its chain serves that API itself (others get it translated).
	Responses       bool `json:"responses"`
	ResponsesNative bool `json:"responses_native"`
	// Capabilities are the routes beyond chat some backend of the chain serves:
	// audio_in, audio_out, moderation, rerank.
	Capabilities  []string   `json:"capabilities"`
	ContextWindow int        `json:"context_window,omitempty"`
	Tiers         []tierInfo `json:"tiers"`
}

type modalities struct {
	Input  []string `json:"input"`
	Output []string `json:"output"`
}

type tierInfo struct {
	Tier    string `json:"tier"`
	Backend string `json:"backend"`
	Kind    string `json:"kind"`
	Cloud   bool   `json:"cloud"`
	Breaker string `json:"breaker"`
}

// info serves "GET /v1/info": per model, the capabilities some backend in its chain
// offers, and the chain itself.
func info(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		out := struct {
			Object string      `json:"object"`
			Data   []modelInfo `json:"data"`
		}{Object: "list", Data: []modelInfo{}}
		eff, err := a.Settings.Effective(r.Context(), auth.From(r.Context()).Tenant)
		if err != nil {
			return err
		}
		for _, m := range a.Router.Models() {
			if eff.ModelAllowed(m.ID) {
				out.Data = append(out.Data, describe(a, m))
			}
		}
		return web.JSON(w, http.StatusOK, out)
	}
}

func describe(a *app.App, m *router.Model) modelInfo {
	mi := modelInfo{ID: m.ID, Type: m.Type, Types: m.Types(), ContextWindow: m.ContextWindow, Tiers: []tierInfo{}}
	offers := func(c backend.Capability) bool {
		for _, t := range m.Targets {
			if t.Backend.Can(c) {
				return true
			}
		}
		return false
	}
	mi.Modalities.Input = []string{"text"}
	mi.Modalities.Output = []string{}
	for _, kind := range mi.Types {
		switch kind {
		case "chat":
			mi.Modalities.Output = append(mi.Modalities.Output, "text")
			if m.Vision && offers(backend.Vision) {
				mi.Modalities.Input = append(mi.Modalities.Input, "image")
			}
			// Ollama says which models call tools; other kinds leave it to the backend.
			said := m.Details != nil && len(m.Details.Capabilities) > 0
			mi.Tools = offers(backend.Tools) && (!said || m.Details.Has("tools"))
			mi.JSONMode = offers(backend.JSONMode)
			mi.Responses = offers(backend.Chat) || offers(backend.Responses)
			mi.ResponsesNative = offers(backend.Responses)
		case "embedding":
			mi.Modalities.Output = append(mi.Modalities.Output, "embedding")
			mi.Embeddings = offers(backend.Embeddings)
		case "image":
			mi.Modalities.Output = append(mi.Modalities.Output, "image")
		case "transcription":
			mi.Modalities.Input = []string{"audio"}
			mi.Modalities.Output = append(mi.Modalities.Output, "text")
		case "speech":
			mi.Modalities.Output = append(mi.Modalities.Output, "audio")
		case "moderation":
			mi.Modalities.Output = append(mi.Modalities.Output, "moderation")
		case "rerank":
			mi.Modalities.Output = append(mi.Modalities.Output, "scores")
		}
	}
	mi.Capabilities = []string{}
	for _, c := range []backend.Capability{backend.AudioIn, backend.AudioOut, backend.Moderation, backend.Rerank} {
		if offers(c) {
			mi.Capabilities = append(mi.Capabilities, string(c))
		}
	}
	for _, t := range m.Targets {
		mi.Tiers = append(mi.Tiers, tierInfo{
			Tier: "T" + strconv.Itoa(t.Tier), Backend: t.Backend.Name, Kind: t.Backend.Kind,
			Cloud: t.Backend.Profile.Cloud, Breaker: t.Breaker.State().String(),
		})
	}
	return mi
}
