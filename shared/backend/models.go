package backend

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxDescription bounds a model list or description read at startup: a cloud
// provider lists hundreds of models, Ollama's /api/show carries the license text.
const maxDescription = 8 << 20

// Listed is one model a backend lists.
type Listed struct {
	// ID is the id the backend knows the model by.
	ID string
	// ContextWindow is what the list says of it (vLLM's max_model_len, OpenRouter's
	// context_length); 0 when it says nothing.
	ContextWindow int
}

// Details is what a backend says of one of its models beyond its id.
type Details struct {
	// Capabilities are Ollama's words for what the model does: "completion",
	// "embedding", "vision", "tools", "insert", "thinking". Empty when the backend
	// did not say (an Ollama older than 0.6.4).
	Capabilities []string
	// ContextWindow is the window the backend runs the model with (a num_ctx its
	// Modelfile sets), else the one it was trained for (model_info's
	// <arch>.context_length); 0 when unknown.
	ContextWindow int
}

// Has reports whether the backend said the model has capability c.
func (d Details) Has(c string) bool { return slices.Contains(d.Capabilities, c) }

// CanDescribe reports whether the kind describes single models (Describe).
func (b *Backend) CanDescribe() bool { return b.Profile.ShowPath != "" }

// ListModels asks the backend which models it serves: the kind's ListPath, which
// answers either OpenAI's {"data": [{"id"}]} or Ollama's {"models": [{"name"}]}.
func (b *Backend) ListModels(ctx context.Context) ([]Listed, error) {
	var body struct {
		Data []struct {
			ID            string `json:"id"`
			MaxModelLen   int    `json:"max_model_len"`
			ContextLength int    `json:"context_length"`
		} `json:"data"`
		Models []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
		} `json:"models"`
	}
	if err := b.describe(ctx, http.MethodGet, b.Profile.ListPath, nil, &body); err != nil {
		return nil, err
	}
	var out []Listed
	for _, d := range body.Data {
		if d.ID != "" {
			out = append(out, Listed{ID: d.ID, ContextWindow: max(d.MaxModelLen, d.ContextLength)})
		}
	}
	for _, m := range body.Models {
		if id := cmp.Or(m.Model, m.Name); id != "" {
			out = append(out, Listed{ID: id})
		}
	}
	return out, nil
}

// Describe asks the backend about one model (Ollama's /api/show). It fails for a
// kind without a ShowPath (see CanDescribe) and for a model the backend lacks.
func (b *Backend) Describe(ctx context.Context, model string) (Details, error) {
	if !b.CanDescribe() {
		return Details{}, fmt.Errorf("backend %s: kind %s describes no models", b.Name, b.Kind)
	}
	req, _ := json.Marshal(map[string]string{"model": model})
	var body struct {
		Capabilities []string                   `json:"capabilities"`
		ModelInfo    map[string]json.RawMessage `json:"model_info"`
		Parameters   string                     `json:"parameters"`
	}
	if err := b.describe(ctx, http.MethodPost, b.Profile.ShowPath, req, &body); err != nil {
		return Details{}, err
	}
	d := Details{Capabilities: body.Capabilities, ContextWindow: numCtx(body.Parameters)}
	if d.ContextWindow == 0 {
		for k, v := range body.ModelInfo {
			var n float64
			if strings.HasSuffix(k, ".context_length") && json.Unmarshal(v, &n) == nil && n > 0 {
				d.ContextWindow = int(n)
				break
			}
		}
	}
	return d, nil
}

// describe sends one discovery request to the backend's root and decodes the answer.
func (b *Backend) describe(ctx context.Context, method, path string, body []byte, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, b.root+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth := b.auth(); auth != "" {
		req.Header.Set(b.Profile.AuthHeader, auth)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxDescription))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: %s: %.200s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// numCtx reads num_ctx from Ollama's parameters, one "name value" per line.
func numCtx(params string) int {
	for line := range strings.Lines(params) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "num_ctx" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
