package simulator

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

type embeddingResponse struct {
	Object string `json:"object"`
	Model  string `json:"model"`
	Data   []struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Usage embeddingUsage `json:"usage"`
}

func embedRequest(t *testing.T, ts *httptest.Server, req object) embeddingResponse {
	t.Helper()
	req["model"] = "sim-embed"
	return decode[embeddingResponse](t, post(t, ts, "/v1/embeddings", req), http.StatusOK)
}

func TestEmbeddings(t *testing.T) {
	_, ts := start(t, Options{})
	tests := []struct {
		name       string
		input      any
		dims       int
		wantN      int
		wantTokens int
	}{
		{"string", "hello world", 0, 1, 2},
		{"strings", []string{"a", "b c", "a"}, 0, 3, 4},
		{"tokens", []int{1, 2, 3}, 16, 1, 3},
		{"token arrays", [][]int{{1, 2}, {3}}, 3, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := object{"input": tt.input}
			wantDims := 8
			if tt.dims > 0 {
				req["dimensions"] = tt.dims
				wantDims = tt.dims
			}
			resp := embedRequest(t, ts, req)
			if resp.Object != "list" || resp.Model != "sim-embed" || len(resp.Data) != tt.wantN {
				t.Fatalf("got object %q model %q with %d embeddings, want list, sim-embed, %d",
					resp.Object, resp.Model, len(resp.Data), tt.wantN)
			}
			if resp.Usage.PromptTokens != tt.wantTokens || resp.Usage.TotalTokens != tt.wantTokens {
				t.Errorf("usage = %+v, want %d tokens", resp.Usage, tt.wantTokens)
			}
			for i, d := range resp.Data {
				if d.Object != "embedding" || d.Index != i || len(d.Embedding) != wantDims {
					t.Errorf("data[%d]: object %q index %d dims %d", i, d.Object, d.Index, len(d.Embedding))
				}
				var norm float64
				for _, v := range d.Embedding {
					norm += float64(v) * float64(v)
				}
				if math.Abs(norm-1) > 1e-5 {
					t.Errorf("data[%d] has squared norm %v, want 1", i, norm)
				}
			}
		})
	}
}

func TestEmbeddingsDeterministic(t *testing.T) {
	_, ts := start(t, Options{})
	first := embedRequest(t, ts, object{"input": []string{"same", "other", "same"}})
	again := embedRequest(t, ts, object{"input": "same"})
	same, other := first.Data[0].Embedding, first.Data[1].Embedding
	if !slices.Equal(same, first.Data[2].Embedding) || !slices.Equal(same, again.Data[0].Embedding) {
		t.Error("equal inputs embedded differently")
	}
	if slices.Equal(same, other) {
		t.Error("different inputs embedded identically")
	}

	// base64 is the same vector as little-endian float32s.
	resp := decode[struct {
		Data []struct{ Embedding string }
	}](t, post(t, ts, "/v1/embeddings", object{"model": "sim-embed", "input": "same", "encoding_format": "base64"}), http.StatusOK)
	raw, err := base64.StdEncoding.DecodeString(resp.Data[0].Embedding)
	if err != nil {
		t.Fatal(err)
	}
	decoded := make([]float32, len(raw)/4)
	for i := range decoded {
		decoded[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if !slices.Equal(decoded, same) {
		t.Errorf("base64 embedding %v, want %v", decoded, same)
	}
}

func TestEmbeddingsErrors(t *testing.T) {
	_, ts := start(t, Options{})
	tests := []struct {
		name   string
		body   object
		status int
		code   string
	}{
		{"unknown model", object{"model": "nope", "input": "x"}, http.StatusNotFound, "model_not_found"},
		{"missing input", object{"model": "sim-embed"}, http.StatusBadRequest, "invalid_value"},
		{"empty string", object{"model": "sim-embed", "input": ""}, http.StatusBadRequest, "invalid_value"},
		{"mixed input", object{"model": "sim-embed", "input": []any{"a", 1}}, http.StatusBadRequest, "invalid_value"},
		{"bad dimensions", object{"model": "sim-embed", "input": "x", "dimensions": 0}, http.StatusBadRequest, "invalid_value"},
		{"bad encoding", object{"model": "sim-embed", "input": "x", "encoding_format": "hex"}, http.StatusBadRequest, "invalid_value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAPIError(t, post(t, ts, "/v1/embeddings", tt.body), tt.status, tt.code)
		})
	}
}

// TestEmbeddingsShareWords: texts sharing words (or misspelt fragments of them)
// are closer than unrelated ones, so retrieval over the simulator means something.
func TestEmbeddingsShareWords(t *testing.T) {
	_, ts := start(t, Options{})
	resp := embedRequest(t, ts, object{"dimensions": 256, "input": []string{
		"The Orion relay listens on port 8443.",
		"Which port does the Orion relay listen on?",
		"Wich prot does the Orion rleay listen on?",
		"Bananas are a yellow fruit rich in potassium.",
	}})
	cos := func(i, j int) float64 {
		var s float64
		for k := range resp.Data[i].Embedding {
			s += float64(resp.Data[i].Embedding[k]) * float64(resp.Data[j].Embedding[k])
		}
		return s
	}
	if related, typo, unrelated := cos(0, 1), cos(0, 2), cos(0, 3); related <= unrelated || typo <= unrelated {
		t.Errorf("cosine to the passage: question %.3f, misspelt question %.3f, unrelated %.3f", related, typo, unrelated)
	}
}
