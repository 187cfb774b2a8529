package simulator

import (
	"io"
	"net/http"
	"testing"

	"spass/local/openaispec"
)

// TestOpenAISpec validates every kind of body the simulator produces against
// the component schemas of OpenAI's own OpenAPI description, which is what
// the gateway's contract tests hold it to. It skips when the reference
// document is not available (see openaispec.ForTest).
func TestOpenAISpec(t *testing.T) {
	spec := openaispec.ForTest(t)
	sim, ts := start(t, Options{})

	check := func(schema string, resp *http.Response, wantStatus int) {
		t.Helper()
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != wantStatus {
			t.Fatalf("status %d, want %d: %s", resp.StatusCode, wantStatus, body)
		}
		if err := spec.Validate(schema, body); err != nil {
			t.Errorf("%s: %v", schema, err)
		}
	}
	chatRequests := []object{
		{"model": "sim-chat", "messages": userMessage("plain"), "max_tokens": 2},
		{"model": "sim-chat", "messages": userMessage("json"), "response_format": object{"type": "json_object"}},
		{"model": "sim-chat", "messages": userMessage("get_weather get_time"), "tools": []object{weatherTool, timeTool}},
		{"model": "sim-chat", "messages": userMessage("usage"), "stream_options": object{"include_usage": true}},
	}
	for _, req := range chatRequests {
		check("CreateChatCompletionResponse", post(t, ts, "/v1/chat/completions", req), http.StatusOK)
		for _, e := range streamChat(t, ts, req).events {
			if err := spec.Validate("CreateChatCompletionStreamResponse", e); err != nil {
				t.Errorf("chunk %s: %v", e, err)
			}
		}
	}
	// Only floats: the spec does not model encoding_format "base64", whose
	// embeddings are strings (covered by TestEmbeddingsDeterministic).
	check("CreateEmbeddingResponse", post(t, ts, "/v1/embeddings",
		object{"model": "sim-embed", "input": []string{"a", "b"}}), http.StatusOK)
	for _, format := range []string{"b64_json", "url"} {
		check("ImagesResponse", post(t, ts, "/v1/images/generations",
			object{"prompt": "p", "size": "8x8", "response_format": format}), http.StatusOK)
	}
	check("ListModelsResponse", get(t, ts, "/v1/models"), http.StatusOK)

	check("ErrorResponse", post(t, ts, "/v1/chat/completions", object{"model": "nope", "messages": userMessage("x")}), http.StatusNotFound)
	check("ErrorResponse", post(t, ts, "/v1/embeddings", `{`), http.StatusBadRequest)
	sim.SetFault(Fault429)
	check("ErrorResponse", post(t, ts, "/v1/embeddings", object{}), http.StatusTooManyRequests)
	sim.SetFault(Fault500)
	check("ErrorResponse", post(t, ts, "/v1/embeddings", object{}), http.StatusInternalServerError)
}
