package openai_test

import (
	"io"
	"net/http"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/openaispec"
	"spass/local/simulator"
)

// TestConformance validates what the gateway sends against OpenAI's own schemas in
// ../shared/reference/openai-openapi.yaml: non-streamed responses, every stream
// chunk, embeddings, models and error bodies, including errors inside a stream.
func TestConformance(t *testing.T) {
	spec := openaispec.ForTest(t)
	env := startTwoTiers(t)
	check := func(t *testing.T, schema string, body []byte) {
		t.Helper()
		if err := spec.Validate(schema, body); err != nil {
			t.Errorf("%s: %v\n%s", schema, err, body)
		}
	}
	call := func(t *testing.T, method, path, body string) *http.Response {
		return gatewaytest.Do(t, env.Request(t, method, path, body))
	}
	read := func(t *testing.T, r *http.Response) []byte {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`
	chats := map[string]string{
		"plain":  `{"model":"sim-chat","messages":[{"role":"user","content":"Hi"}]`,
		"tools":  `{"model":"sim-chat","messages":[{"role":"user","content":"weather in Paris? get_weather"}],` + tools,
		"json":   `{"model":"sim-chat","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"}`,
		"vision": `{"model":"sim-vision","messages":[{"role":"user","content":[{"type":"text","text":"what is it"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]`,
	}
	for name, body := range chats {
		t.Run("chat/"+name, func(t *testing.T) {
			check(t, "CreateChatCompletionResponse", read(t, call(t, "POST", "/v1/chat/completions", body+"}")))
		})
		t.Run("stream/"+name, func(t *testing.T) {
			events := sseEvents(t, call(t, "POST", "/v1/chat/completions", body+`,"stream":true,"stream_options":{"include_usage":true}}`).Body)
			if len(events) < 3 || events[len(events)-1] != "[DONE]" {
				t.Fatalf("events %v", events)
			}
			for _, e := range events[:len(events)-1] {
				check(t, "CreateChatCompletionStreamResponse", []byte(e))
			}
		})
	}
	t.Run("embeddings", func(t *testing.T) {
		check(t, "CreateEmbeddingResponse", read(t, call(t, "POST", "/v1/embeddings", `{"model":"sim-embed","input":["a","b"]}`)))
	})
	t.Run("models", func(t *testing.T) {
		check(t, "ListModelsResponse", read(t, call(t, "GET", "/v1/models", "")))
		check(t, "Model", read(t, call(t, "GET", "/v1/models/sim-chat", "")))
	})
	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/v1/chat/completions", `{`},
			{"POST", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`},
			{"GET", "/v1/nothing", ""},
			{"POST", "/v1/embeddings", `{"model":"sim-embed"}`},
		} {
			resp := call(t, c.method, c.path, c.body)
			if resp.StatusCode < 400 {
				t.Fatalf("%s %s: status %d", c.method, c.path, resp.StatusCode)
			}
			check(t, "ErrorResponse", read(t, resp))
		}
		req := env.Request(t, "GET", "/v1/models", "")
		req.Header.Set("Authorization", "Bearer wrong")
		check(t, "ErrorResponse", read(t, gatewaytest.Do(t, req)))
	})
	t.Run("error event in a cut stream", func(t *testing.T) {
		env.Sims["a"].SetFault(simulator.FaultCut)
		defer env.Sims["a"].SetFault(simulator.FaultNone)
		events := sseEvents(t, call(t, "POST", "/v1/chat/completions", chats["plain"]+`,"stream":true}`).Body)
		for _, e := range events[:len(events)-1] {
			check(t, "CreateChatCompletionStreamResponse", []byte(e))
		}
		check(t, "ErrorResponse", []byte(events[len(events)-1]))
	})
}
