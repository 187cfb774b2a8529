package simulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

const (
	defaultEmbeddingDims = 8
	maxEmbeddingDims     = 4096
)

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     *int            `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

type embeddingList struct {
	Object string         `json:"object"`
	Data   []embedding    `json:"data"`
	Model  string         `json:"model"`
	Usage  embeddingUsage `json:"usage"`
}

type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// embeddingInput is one input to embed: a key identifying its content and
// its size in tokens.
type embeddingInput struct {
	key    string
	text   string // "" for token arrays
	tokens int
}

// handleEmbeddings implements POST /v1/embeddings. Text is embedded by its
// words and word fragments (EmbedText), so texts that share them are close, as
// with a real model, and a retrieval test over the simulator measures
// something; token arrays by a hash. Equal inputs embed identically.
func (s *Server) handleEmbeddings(x *exchange) {
	var req embeddingRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	if e, ok := s.checkModel(req.Model); !ok {
		x.fail(e)
		return
	}
	inputs, err := parseEmbeddingInput(req.Input)
	if err != nil {
		x.fail(errInvalidParam("input", "%v", err))
		return
	}
	dims := defaultEmbeddingDims
	if req.Dimensions != nil {
		dims = *req.Dimensions
		if dims < 1 || dims > maxEmbeddingDims {
			x.fail(errInvalidParam("dimensions", "dimensions must be between 1 and %d, got %d", maxEmbeddingDims, dims))
			return
		}
	}
	var encode func([]float32) any
	switch req.EncodingFormat {
	case "", "float":
		encode = func(v []float32) any { return v }
	case "base64":
		encode = func(v []float32) any { return encodeBase64(v) }
	default:
		x.fail(errInvalidParam("encoding_format", "encoding_format must be float or base64, got %q", req.EncodingFormat))
		return
	}

	resp := embeddingList{Object: "list", Model: req.Model, Data: make([]embedding, len(inputs))}
	for i, in := range inputs {
		vec := embed(in.key, dims)
		if in.text != "" {
			vec = EmbedText(in.text, dims)
		}
		resp.Data[i] = embedding{Object: "embedding", Index: i, Embedding: encode(vec)}
		resp.Usage.PromptTokens += in.tokens
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	x.respond(resp)
}

// parseEmbeddingInput accepts the four shapes OpenAI allows for input: a
// string, an array of strings, an array of token ids, or an array of arrays
// of token ids.
func parseEmbeddingInput(raw json.RawMessage) ([]embeddingInput, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("missing required parameter 'input'")
	}
	if text, ok := decodeAs[string](raw); ok {
		return textInputs([]string{text})
	}
	if texts, ok := decodeAs[[]string](raw); ok {
		return textInputs(texts)
	}
	if tokens, ok := decodeAs[[]int](raw); ok {
		return tokenInputs([][]int{tokens})
	}
	if lists, ok := decodeAs[[][]int](raw); ok {
		return tokenInputs(lists)
	}
	return nil, errors.New("input must be a string, an array of strings, an array of tokens, or an array of token arrays")
}

func textInputs(texts []string) ([]embeddingInput, error) {
	if len(texts) == 0 {
		return nil, errors.New("input must not be empty")
	}
	inputs := make([]embeddingInput, len(texts))
	for i, t := range texts {
		if t == "" {
			return nil, errors.New("input must not contain empty strings")
		}
		inputs[i] = embeddingInput{key: "text:" + t, text: t, tokens: max(1, countWords(t))}
	}
	return inputs, nil
}

func tokenInputs(lists [][]int) ([]embeddingInput, error) {
	if len(lists) == 0 {
		return nil, errors.New("input must not be empty")
	}
	inputs := make([]embeddingInput, len(lists))
	for i, tokens := range lists {
		if len(tokens) == 0 {
			return nil, errors.New("input must not contain empty token arrays")
		}
		inputs[i] = embeddingInput{key: fmt.Sprint("tokens:", tokens), tokens: len(tokens)}
	}
	return inputs, nil
}

// embed returns a deterministic unit vector of the given size for key.
func embed(key string, dims int) []float32 {
	sum := sha256.Sum256([]byte(key))
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	raw := make([]float64, dims)
	var norm float64
	for i := range raw {
		raw[i] = rng.Float64()*2 - 1
		norm += raw[i] * raw[i]
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		norm = 1
	}
	vec := make([]float32, dims)
	for i, v := range raw {
		vec[i] = float32(v / norm)
	}
	return vec
}

// encodeBase64 packs v as little-endian float32s in base64, the
// encoding_format OpenAI's SDKs request by default.
func encodeBase64(v []float32) string {
	buf := make([]byte, 0, 4*len(v))
	for _, f := range v {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// decodeAs decodes raw as a T, reporting whether it has exactly that shape.
// (json.Unmarshal fills in what it can even when it fails, so each attempt
// needs a fresh value.)
func decodeAs[T any](raw json.RawMessage) (T, bool) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err == nil
}
