package openai_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"slices"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// startOllama runs the gateway with the environment quick start on a simulator that
// speaks Ollama's /api/tags and /api/show, next to the default simulator models.
func startOllama(t *testing.T, models []string, modelName string) (*gatewaytest.Env, *simulator.Server) {
	t.Helper()
	sim := simulator.New(simulator.Options{Models: models, Ollama: map[string]simulator.OllamaModel{
		"llama3.1":                {Capabilities: []string{"completion", "tools"}, ContextLength: 131072},
		"nomic-embed-text":        {Capabilities: []string{"embedding"}, ContextLength: 8192},
		"llava:latest":            {Capabilities: []string{"completion", "vision"}, ContextLength: 4096},
		"nomic-embed-text:latest": {Capabilities: []string{"embedding"}, ContextLength: 8192},
	}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	env := gatewaytest.Start(t, gatewaytest.Setup{Env: map[string]string{
		"BACKEND_KIND": "ollama", "BACKEND_BASE_URL": srv.URL, "MODEL_NAME": modelName,
	}})
	return env, sim
}

func TestQuickStartModelEmbedsWhenItsBackendDoes(t *testing.T) {
	env, sim := startOllama(t, []string{"llama3.1", "nomic-embed-text"}, "llama3.1,nomic-embed-text")

	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"nomic-embed-text","input":["a","b"]}`))
	var out struct {
		Model string
		Data  []struct{ Embedding []float64 }
	}
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || len(out.Data) != 2 || len(out.Data[0].Embedding) == 0 || out.Model != "nomic-embed-text" {
		t.Fatalf("status %d body %+v", resp.StatusCode, out)
	}
	var sent struct{ Model string }
	if err := json.Unmarshal(sim.LastRequest(), &sent); err != nil || sent.Model != "nomic-embed-text" {
		t.Errorf("the backend was asked %s", sim.LastRequest())
	}

	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"llama3.1","messages":[{"role":"user","content":"hi"}]}`))
	if resp.StatusCode != 200 {
		t.Errorf("chat with llama3.1: %d", resp.StatusCode)
	}
	// Ollama says which route each model serves; the other one is not found.
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"llama3.1","input":"a"}`)), 404, "model_not_found")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions",
		`{"model":"nomic-embed-text","messages":[{"role":"user","content":"hi"}]}`)), 404, "model_not_found")
}

func TestQuickStartWithoutModelNameServesTheListedModels(t *testing.T) {
	env, _ := startOllama(t, []string{"llava:latest", "nomic-embed-text:latest"}, "")

	var list struct{ Data []struct{ ID string } }
	readJSON(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/models", "")).Body, &list)
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	want := []string{"llava", "nomic-embed-text", "sim-chat", "sim-embed", "sim-image", "sim-moderation", "sim-rerank", "sim-tts", "sim-vision", "sim-whisper"}
	if !slices.Equal(ids, want) {
		t.Fatalf("/v1/models = %v, want %v", ids, want)
	}
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"nomic-embed-text","input":"a"}`))
	if resp.StatusCode != 200 {
		t.Errorf("embeddings of a listed model: %d", resp.StatusCode)
	}

	type info struct {
		ID            string
		Type          string
		Types         []string
		Modalities    struct{ Input, Output []string }
		Tools         bool
		Embeddings    bool
		ContextWindow int `json:"context_window"`
	}
	var got struct{ Data []info }
	body := gatewaytest.Do(t, env.Request(t, "GET", "/v1/info", "")).Body
	readJSON(t, body, &got)
	byID := map[string]info{}
	for _, m := range got.Data {
		byID[m.ID] = m
	}
	llava, embed := byID["llava"], byID["nomic-embed-text"]
	if llava.ContextWindow != 4096 || !slices.Equal(llava.Modalities.Input, []string{"text", "image"}) || llava.Tools || !slices.Equal(llava.Types, []string{"chat"}) {
		t.Errorf("llava: %+v, want /api/show's window 4096, vision and no tools", llava)
	}
	if embed.ContextWindow != 8192 || embed.Type != "embedding" || !embed.Embeddings || !slices.Equal(embed.Modalities.Output, []string{"embedding"}) {
		t.Errorf("nomic-embed-text: %+v", embed)
	}
}

func TestInfoOfANamedModelTheBackendDoesNotDescribe(t *testing.T) {
	sim := httptest.NewServer(simulator.New(simulator.Options{Models: []string{"scout"}}))
	t.Cleanup(sim.Close)
	env := gatewaytest.Start(t, gatewaytest.Setup{Env: map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": sim.URL, "MODEL_NAME": "scout"}})
	var got struct {
		Data []struct {
			ID         string
			Types      []string
			Modalities struct{ Output []string }
			Embeddings bool
		}
	}
	raw, err := io.ReadAll(gatewaytest.Do(t, env.Request(t, "GET", "/v1/info", "")).Body)
	if err != nil || json.Unmarshal(raw, &got) != nil {
		t.Fatalf("/v1/info: %v %s", err, raw)
	}
	for _, m := range got.Data {
		if m.ID == "scout" {
			if !slices.Equal(m.Types, []string{"chat", "embedding"}) || !m.Embeddings || !slices.Equal(m.Modalities.Output, []string{"text", "embedding"}) {
				t.Errorf("scout: %+v", m)
			}
			return
		}
	}
	t.Fatalf("scout missing from %s", raw)
}
