package openaispec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type doc struct {
	name   string
	schema string
	body   string
	// for failing documents: instance paths (JSON pointers, "/" = root) that
	// must all appear among the reported problems.
	paths []string
}

// ---------------------------------------------------------------------------
// Documents that MUST pass.

var valid = []doc{
	// Chat completions (non-streamed).
	{name: "chat minimal as vLLM returns it", schema: "CreateChatCompletionResponse", body: `{
		"id": "chatcmpl-7f3c", "object": "chat.completion", "created": 1741570283, "model": "meta-llama/Llama-3.1-8B-Instruct",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null},
		             "finish_reason": "stop", "logprobs": null}],
		"usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}}`},
	{name: "chat as OpenAI returns it", schema: "CreateChatCompletionResponse", body: `{
		"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
		"model": "gpt-4o-2024-08-06",
		"choices": [{"index": 0,
			"message": {"role": "assistant", "content": "Hello there.", "refusal": null, "annotations": []},
			"logprobs": null, "finish_reason": "stop"}],
		"usage": {"prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
			"prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
			"completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
				"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
		"service_tier": "default", "system_fingerprint": "fp_fc9f1d7035"}`},
	{name: "chat without usage (usage is optional)", schema: "CreateChatCompletionResponse", body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null},
		             "finish_reason": "length", "logprobs": null}]}`},
	{name: "chat with n=2, extra vendor fields, service_tier null", schema: "CreateChatCompletionResponse", body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "service_tier": null,
		"prompt_logprobs": null, "kv_transfer_params": null,
		"choices": [
			{"index": 0, "message": {"role": "assistant", "content": "a", "refusal": null, "reasoning_content": null, "tool_calls": []},
			 "finish_reason": "stop", "logprobs": null, "stop_reason": null},
			{"index": 1, "message": {"role": "assistant", "content": "b", "refusal": null},
			 "finish_reason": "stop", "logprobs": null}],
		"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}`},
	{name: "chat with tool calls", schema: "CreateChatCompletionResponse", body: `{
		"id": "chatcmpl-abc123", "object": "chat.completion", "created": 1699896916, "model": "gpt-4o-mini",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
			"message": {"role": "assistant", "content": null, "refusal": null,
				"tool_calls": [{"id": "call_abc123", "type": "function",
					"function": {"name": "get_current_weather", "arguments": "{\"location\": \"Boston, MA\"}"}}]}}],
		"usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}}`},
	{name: "chat with logprobs", schema: "CreateChatCompletionResponse", body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "finish_reason": "stop",
			"message": {"role": "assistant", "content": "Hi", "refusal": null},
			"logprobs": {"content": [{"token": "Hi", "logprob": -0.31725305, "bytes": [72, 105],
				"top_logprobs": [{"token": "Hi", "logprob": -0.31725305, "bytes": [72, 105]},
				                 {"token": "Hello", "logprob": -1.3190403, "bytes": null}]}],
				"refusal": null}}]}`},

	// Stream chunks.
	{name: "chunk: first, role + empty content", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "gpt-4o-mini",
		"system_fingerprint": "fp_44709d6fcb",
		"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null},
		             "logprobs": null, "finish_reason": null}],
		"obfuscation": "r4N7vQ2m"}`},
	{name: "chunk: delta content", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [{"index": 0, "delta": {"content": "Hello"}, "logprobs": null, "finish_reason": null}]}`},
	{name: "chunk: delta content, logprobs omitted, usage null (include_usage)", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [{"index": 0, "delta": {"content": " world"}, "finish_reason": null}], "usage": null}`},
	{name: "chunk: finish", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]}`},
	{name: "chunk: final usage with choices []", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [],
		"usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21,
			"prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
			"completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
				"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}}`},
	{name: "chunk: tool call start", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": null,
			"delta": {"role": "assistant", "content": null,
				"tool_calls": [{"index": 0, "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "type": "function",
					"function": {"name": "get_weather", "arguments": ""}}]}}]}`},
	{name: "chunk: tool call arguments fragment", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": null,
			"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"location\":"}}]}}]}`},
	{name: "chunk: tool call finish", schema: "CreateChatCompletionStreamResponse", body: `{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190, "model": "m",
		"choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"}]}`},

	// Embeddings.
	{name: "embeddings list", schema: "CreateEmbeddingResponse", body: `{
		"object": "list",
		"data": [{"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, 1e-7, 0, -1]},
		         {"object": "embedding", "index": 1, "embedding": [0.1, 0.2]}],
		"model": "text-embedding-3-small",
		"usage": {"prompt_tokens": 8, "total_tokens": 8}}`},
	{name: "embeddings list with vLLM extras", schema: "CreateEmbeddingResponse", body: `{
		"id": "embd-1", "object": "list", "created": 1741570283, "model": "BAAI/bge-m3",
		"data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
		"usage": {"prompt_tokens": 3, "total_tokens": 3, "completion_tokens": 0, "prompt_tokens_details": null}}`},

	// Models.
	{name: "models list", schema: "ListModelsResponse", body: `{
		"object": "list",
		"data": [{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
		         {"id": "text-embedding-3-small", "object": "model", "created": 1705948997, "owned_by": "system"}]}`},
	{name: "models list empty", schema: "ListModelsResponse", body: `{"object": "list", "data": []}`},
	{name: "models list with vLLM extras", schema: "ListModelsResponse", body: `{
		"object": "list",
		"data": [{"id": "meta-llama/Llama-3.1-8B-Instruct", "object": "model", "created": 1741570283, "owned_by": "vllm",
			"root": "meta-llama/Llama-3.1-8B-Instruct", "parent": null, "max_model_len": 8192, "permission": []}]}`},
	{name: "model", schema: "Model", body: `{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}`},

	// Errors.
	{name: "error body", schema: "ErrorResponse", body: `{"error": {"message": "x", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}`},
	{name: "error body, code null, param set", schema: "ErrorResponse", body: `{"error": {"message": "bad", "type": "invalid_request_error", "param": "messages", "code": null}}`},

	// Images.
	{name: "images b64", schema: "ImagesResponse", body: `{"created": 1713833628, "data": [{"b64_json": "iVBORw0KGgo="}]}`},
	{name: "images url + revised prompt", schema: "ImagesResponse", body: `{"created": 1713833628,
		"data": [{"url": "https://example.com/img.png", "revised_prompt": "a cat"}]}`},
	{name: "images gpt-image with usage", schema: "ImagesResponse", body: `{
		"created": 1713833628, "data": [{"b64_json": "..."}],
		"background": "transparent", "output_format": "png", "size": "1024x1024", "quality": "high",
		"usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
			"input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}}`},
}

// ---------------------------------------------------------------------------
// Documents that MUST fail, with the instance paths that must be reported.

var invalid = []doc{
	{name: "chat: missing choices", schema: "CreateChatCompletionResponse", paths: []string{"/"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m"}`},
	{name: "chat: wrong object value", schema: "CreateChatCompletionResponse", paths: []string{"/object"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "chat: missing id, model, created", schema: "CreateChatCompletionResponse", paths: []string{"/"}, body: `{
		"object": "chat.completion",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "chat: created is a string", schema: "CreateChatCompletionResponse", paths: []string{"/created"}, body: `{
		"id": "c1", "object": "chat.completion", "created": "2025-01-01T00:00:00Z", "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "chat: created is fractional", schema: "CreateChatCompletionResponse", paths: []string{"/created"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1741570283.5, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "chat: choice without logprobs (logprobs is required, may be null)", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop"}]}`},
	{name: "chat: choice without finish_reason", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "logprobs": null}]}`},
	{name: "chat: finish_reason null in a final response", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0/finish_reason"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": null, "logprobs": null}]}`},
	{name: "chat: unknown finish_reason (vLLM 'abort'/'eos')", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0/finish_reason"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "eos", "logprobs": null}]}`},
	{name: "chat: message role user", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0/message/role"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "user", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "chat: message without refusal (refusal is required, may be null)", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0/message"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "chat: message without content (content is required, may be null)", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0/message"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
			"message": {"role": "assistant", "refusal": null,
				"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]}`},
	{name: "chat: usage without total_tokens", schema: "CreateChatCompletionResponse", paths: []string{"/usage"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}],
		"usage": {"prompt_tokens": 1, "completion_tokens": 1}}`},
	{name: "chat: tool call without function.arguments", schema: "CreateChatCompletionResponse", paths: []string{"/choices/0/message/tool_calls/0"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
			"message": {"role": "assistant", "content": null, "refusal": null,
				"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f"}}]}}]}`},
	{name: "chat: body is an array", schema: "CreateChatCompletionResponse", paths: []string{"/"}, body: `[]`},

	{name: "chunk: wrong object value", schema: "CreateChatCompletionStreamResponse", paths: []string{"/object"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": null}]}`},
	{name: "chunk: choice without finish_reason (must be present, null)", schema: "CreateChatCompletionStreamResponse", paths: []string{"/choices/0"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"choices": [{"index": 0, "delta": {"content": "x"}}]}`},
	{name: "chunk: choice without delta", schema: "CreateChatCompletionStreamResponse", paths: []string{"/choices/0"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": null}]}`},
	{name: "chunk: tool call without index", schema: "CreateChatCompletionStreamResponse", paths: []string{"/choices/0/delta/tool_calls/0"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"choices": [{"index": 0, "finish_reason": null,
			"delta": {"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]}}]}`},
	{name: "chunk: missing choices on the usage chunk", schema: "CreateChatCompletionStreamResponse", paths: []string{"/"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}`},
	{name: "chunk: usage with string counts", schema: "CreateChatCompletionStreamResponse", paths: []string{"/usage/total_tokens"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [],
		"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": "2"}}`},

	{name: "embeddings: missing usage", schema: "CreateEmbeddingResponse", paths: []string{"/"}, body: `{
		"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}]}`},
	{name: "embeddings: wrong object values", schema: "CreateEmbeddingResponse", paths: []string{"/object", "/data/0/object"}, body: `{
		"object": "embeddings", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1},
		"data": [{"object": "vector", "index": 0, "embedding": [0.1]}]}`},
	{name: "embeddings: item without index", schema: "CreateEmbeddingResponse", paths: []string{"/data/0"}, body: `{
		"object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1},
		"data": [{"object": "embedding", "embedding": [0.1]}]}`},

	{name: "models: wrong object value", schema: "ListModelsResponse", paths: []string{"/object"}, body: `{"object": "models", "data": []}`},
	{name: "models: item without owned_by and created", schema: "ListModelsResponse", paths: []string{"/data/0"}, body: `{
		"object": "list", "data": [{"id": "m", "object": "model"}]}`},

	{name: "error: without message", schema: "ErrorResponse", paths: []string{"/error"}, body: `{"error": {"type": "invalid_request_error", "param": null, "code": null}}`},
	{name: "error: param and code absent (must be present, may be null)", schema: "ErrorResponse", paths: []string{"/error"}, body: `{"error": {"message": "x", "type": "invalid_request_error"}}`},
	{name: "error: flat body without error wrapper", schema: "ErrorResponse", paths: []string{"/"}, body: `{"message": "x", "type": "invalid_request_error", "param": null, "code": null}`},
	{name: "error: numeric code (vLLM style)", schema: "ErrorResponse", paths: []string{"/error/code"}, body: `{"error": {"message": "x", "type": "BadRequestError", "param": null, "code": 400}}`},

	{name: "images: missing created", schema: "ImagesResponse", paths: []string{"/"}, body: `{"data": [{"b64_json": "..."}]}`},
	{name: "images: bad size", schema: "ImagesResponse", paths: []string{"/size"}, body: `{"created": 1, "data": [], "size": "512x512"}`},
}

// ---------------------------------------------------------------------------
// Real-world, OpenAI-compatible documents that the spec rejects because it is
// stricter than what OpenAI (or vLLM) actually sends. Validation is NOT
// weakened for these: the tests pin the behaviour so that nobody is surprised,
// and the gateway must normalise these fields before they reach a client.

var stricterThanReality = []doc{
	{name: "system_fingerprint null (older OpenAI models, Azure, vLLM)", schema: "CreateChatCompletionResponse",
		paths: []string{"/system_fingerprint"}, body: `{
		"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4-0613", "system_fingerprint": null,
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null}]}`},
	{name: "system_fingerprint null in a chunk", schema: "CreateChatCompletionStreamResponse",
		paths: []string{"/system_fingerprint"}, body: `{
		"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": null,
		"choices": [{"index": 0, "delta": {"content": "x"}, "logprobs": null, "finish_reason": null}]}`},
	{name: "embedding as base64 string (encoding_format=base64, the openai SDKs' default)", schema: "CreateEmbeddingResponse",
		paths: []string{"/data/0/embedding"}, body: `{
		"object": "list", "model": "text-embedding-3-small", "usage": {"prompt_tokens": 1, "total_tokens": 1},
		"data": [{"object": "embedding", "index": 0, "embedding": "AACAPwAAAEA="}]}`},
	{name: "vLLM-style non-streamed nulls (model_dump without exclude_none): annotations, function_call, usage.prompt_tokens_details", schema: "CreateChatCompletionResponse",
		paths: []string{"/choices/0/message/annotations", "/choices/0/message/function_call", "/usage/prompt_tokens_details"}, body: `{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": "stop", "stop_reason": null,
			"message": {"role": "assistant", "content": "hi", "refusal": null, "annotations": null, "audio": null,
				"function_call": null, "tool_calls": [], "reasoning_content": null}}],
		"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "prompt_tokens_details": null}}`},
	{name: "delta fields serialised as null (servers dumping models without exclude_none)", schema: "CreateChatCompletionStreamResponse",
		paths: []string{"/choices/0/delta/tool_calls", "/choices/0/delta/role"}, body: `{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
		"choices": [{"index": 0, "logprobs": null, "finish_reason": null,
			"delta": {"role": null, "content": "x", "tool_calls": null}}]}`},
}

// ---------------------------------------------------------------------------

func TestValid(t *testing.T) {
	spec := ForTest(t)
	for _, d := range valid {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel() // exercises concurrent lazy compilation
			if err := spec.Validate(d.schema, []byte(d.body)); err != nil {
				t.Errorf("%s must be valid:\n%v", d.schema, err)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	spec := ForTest(t)
	for _, d := range invalid {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			checkFails(t, spec, d)
		})
	}
}

func TestSpecStricterThanReality(t *testing.T) {
	spec := ForTest(t)
	for _, d := range stricterThanReality {
		t.Run(d.name, func(t *testing.T) {
			checkFails(t, spec, d)
		})
	}
}

func checkFails(t *testing.T, spec *Spec, d doc) {
	t.Helper()
	err := spec.Validate(d.schema, []byte(d.body))
	if err == nil {
		t.Fatalf("%s must be rejected, but validated", d.schema)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T: %v", err, err)
	}
	got := ve.Paths()
	for _, want := range d.paths {
		found := false
		for _, g := range got {
			if g == want {
				found = true
			}
		}
		if !found {
			t.Errorf("failing path %q not reported; got %q\n%v", want, got, err)
		}
	}
	msg := err.Error()
	if !strings.Contains(msg, "#/components/schemas/"+d.schema) {
		t.Errorf("error does not name the schema: %v", msg)
	}
	for _, want := range d.paths {
		if !strings.Contains(msg, "at "+want+":") {
			t.Errorf("error text does not list path %q:\n%v", want, msg)
		}
	}
	if testing.Verbose() {
		t.Logf("%v", err)
	}
}

func TestErrorText(t *testing.T) {
	spec := ForTest(t)
	err := spec.Validate("ErrorResponse", []byte(`{"error":{"type":"x","param":null,"code":null}}`))
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	for _, want := range []string{
		"#/components/schemas/ErrorResponse",
		"failing at /error",
		"missing property 'message'",
		"/components/schemas/Error/required",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error text lacks %q:\n%s", want, msg)
		}
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != "/error" ||
		ve.Problems[0].Keyword != "/components/schemas/Error/required" {
		t.Errorf("unexpected problems: %+v", ve)
	}
}

func TestBadInput(t *testing.T) {
	spec := ForTest(t)
	if err := spec.Validate("NoSuchSchema", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "no schema") {
		t.Errorf("unknown schema: got %v", err)
	}
	for _, body := range []string{``, `{`, `{"error":{}} trailing`, `{"a":1}{"b":2}`} {
		err := spec.Validate("ErrorResponse", []byte(body))
		if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("body %q: got %v", body, err)
		}
	}
}

// TestNullable checks the rewrite of the OpenAPI 3.0 `nullable` keyword on
// the shapes the document uses it with.
func TestNullable(t *testing.T) {
	spec := ForTest(t)
	base := `"id":"c","object":"chat.completion.chunk","created":1,"model":"m"`
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{` + base + `,"choices":[],"usage":null}`, true},                                               // $ref + nullable
		{`{` + base + `,"choices":[{"index":0,"delta":{},"finish_reason":null}]}`, true},                 // enum + nullable
		{`{` + base + `,"choices":[{"index":0,"delta":{},"finish_reason":"eos"}]}`, false},               // enum still enforced
		{`{` + base + `,"choices":[{"index":0,"delta":{},"finish_reason":7}]}`, false},                   // type still enforced
		{`{` + base + `,"choices":[{"index":0,"delta":{},"finish_reason":null,"logprobs":null}]}`, true}, // object + nullable
		{`{` + base + `,"choices":[{"index":0,"delta":{},"finish_reason":null,"logprobs":{}}]}`, false},  // required inside still enforced
		{`{` + base + `,"choices":[{"index":0,"delta":{},"finish_reason":null,"logprobs":{"content":null,"refusal":null}}]}`, true},
		{`{` + base + `,"choices":[],"usage":{"prompt_tokens":1}}`, false}, // $ref still enforced
	} {
		err := spec.Validate("CreateChatCompletionStreamResponse", []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s: ok=%v, got %v", tc.body, tc.ok, err)
		}
	}
}

// TestRecursiveRef: CompoundFilter uses the 2019-09 $recursiveRef, which is
// rewritten to a $ref to the component itself.
func TestRecursiveRef(t *testing.T) {
	spec := ForTest(t)
	ok := `{"type":"and","filters":[{"type":"eq","key":"a","value":"b"},
		{"type":"or","filters":[{"type":"eq","key":"c","value":1}]}]}`
	if err := spec.Validate("CompoundFilter", []byte(ok)); err != nil {
		t.Errorf("nested compound filter: %v", err)
	}
	bad := `{"type":"and","filters":[{"type":"or","filters":"nope"}]}`
	if err := spec.Validate("CompoundFilter", []byte(bad)); err == nil {
		t.Errorf("nested compound filter with bad filters must fail")
	}
}

// TestAllSchemasCompile compiles every component schema of the document.
func TestAllSchemasCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: compiles ~1400 schemas")
	}
	spec := ForTest(t)
	names := spec.Schemas()
	if len(names) < 100 {
		t.Fatalf("only %d schemas", len(names))
	}
	for _, n := range names {
		if _, err := spec.Compile(n); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestConcurrentValidate(t *testing.T) {
	spec := ForTest(t)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := valid[i%len(valid)]
			if err := spec.Validate(d.schema, []byte(d.body)); err != nil {
				t.Errorf("%s: %v", d.name, err)
			}
		}(i)
	}
	wg.Wait()
}

func TestFind(t *testing.T) {
	p, err := Find()
	if err != nil {
		t.Skipf("reference not available: %v", err)
	}
	if filepath.Base(p) != FileName || filepath.Base(filepath.Dir(p)) != "reference" {
		t.Errorf("Find() = %q", p)
	}

	t.Run("env", func(t *testing.T) {
		t.Setenv(EnvSpec, p)
		if got, err := Find(); err != nil || got != p {
			t.Errorf("Find() with %s = %q, %v", EnvSpec, got, err)
		}
		t.Setenv(EnvSpec, filepath.Join(t.TempDir(), "missing.yaml"))
		if _, err := Find(); err == nil {
			t.Errorf("Find() with a missing %s must fail", EnvSpec)
		}
	})

	t.Run("walk up", func(t *testing.T) {
		t.Setenv(EnvSpec, "")
		root := t.TempDir()
		ref := filepath.Join(root, "shared", "reference")
		deep := filepath.Join(root, "main", "functions", "openai")
		for _, d := range []string{ref, deep} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(ref, FileName), []byte("openapi: 3.1.0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(deep)
		got, err := Find()
		if err != nil {
			t.Fatal(err)
		}
		// TempDir may sit behind a symlink; compare resolved paths.
		want, _ := filepath.EvalSymlinks(filepath.Join(ref, FileName))
		if g, _ := filepath.EvalSymlinks(got); g != want {
			t.Errorf("Find() = %q, want %q", got, want)
		}
	})

	t.Run("not found", func(t *testing.T) {
		t.Setenv(EnvSpec, "")
		t.Chdir(t.TempDir())
		if _, err := Find(); err == nil {
			// Only possible if some ancestor of the temp dir has shared/reference.
			t.Skip("a shared/reference exists above the temp dir")
		}
	})
}

// fakeTB records what resolveForTest does instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                         {}
func (f *fakeTB) Fatalf(format string, a ...any)  { f.fatal = format }
func (f *fakeTB) Skipf(format string, a ...any)   { f.skip = format }
func (f *fakeTB) Fatal(a ...any)                  { f.fatal = "fatal" }
func (f *fakeTB) Skip(a ...any)                   { f.skip = "skip" }
func (f *fakeTB) Logf(format string, args ...any) {}

func TestForTestPolicy(t *testing.T) {
	missing := errors.New("not found")

	t.Setenv("CI", "")
	f := &fakeTB{}
	if resolveForTest(f, nil, missing, false) != nil || f.skip == "" || f.fatal != "" {
		t.Errorf("missing file outside CI must skip: %+v", f)
	}

	t.Setenv("CI", "true")
	f = &fakeTB{}
	if resolveForTest(f, nil, missing, false) != nil || f.fatal == "" || f.skip != "" {
		t.Errorf("missing file in CI must fail: %+v", f)
	}

	t.Setenv("CI", "")
	f = &fakeTB{}
	if resolveForTest(f, nil, errors.New("bad yaml"), true) != nil || f.fatal == "" {
		t.Errorf("a file that does not load must fail: %+v", f)
	}

	s := &Spec{}
	if resolveForTest(&fakeTB{}, s, nil, false) != s {
		t.Errorf("loaded spec must be returned")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file must fail")
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Load(write("bad.yaml", "openapi: [\n")); err == nil {
		t.Error("bad YAML must fail")
	}
	if _, err := Load(write("empty.yaml", "openapi: 3.1.0\n")); err == nil {
		t.Error("a document without components.schemas must fail")
	}
}

// TestLoadSmallDocument exercises the YAML conversion and the OpenAPI
// rewrites on a hand-written document.
func TestLoadSmallDocument(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mini.yaml")
	err := os.WriteFile(p, []byte(`openapi: 3.1.0
paths:
  /x:
    get:
      responses:
        200:
          description: int key
components:
  schemas:
    N:
      type: integer
      nullable: true
      minimum: 0
      exclusiveMinimum: true
      x-when: 2024-01-02
    E:
      type: string
      enum: [a, b]
      nullable: true
    R:
      $ref: "#/components/schemas/E"
      nullable: true
    O:
      oneOf:
        - type: string
        - type: integer
      nullable: true
    I:
      type: integer
      enum: [1, 2]
    F:
      type: number
      maximum: 1.5
    Req:
      type: object
      required: [a, a]
      properties:
        nullable:
          type: string
        a:
          type: string
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		schema, body string
		ok           bool
	}{
		{"N", `null`, true}, {"N", `1`, true}, {"N", `0`, false}, {"N", `"1"`, false},
		{"E", `null`, true}, {"E", `"a"`, true}, {"E", `"c"`, false},
		{"R", `null`, true}, {"R", `"b"`, true}, {"R", `"c"`, false},
		{"O", `null`, true}, {"O", `"s"`, true}, {"O", `1`, true}, {"O", `true`, false},
		{"I", `2`, true}, {"I", `2.0`, true}, {"I", `3`, false},
		{"F", `1.5`, true}, {"F", `1.50000001`, false},
		{"Req", `{"a":"x"}`, true}, {"Req", `{}`, false}, {"Req", `{"a":"x","nullable":1}`, false},
	} {
		err := spec.Validate(tc.schema, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: ok=%v, got %v", tc.schema, tc.body, tc.ok, err)
		}
	}
}

func TestLoadTime(t *testing.T) {
	p, err := Find()
	if err != nil {
		t.Skipf("reference not available: %v", err)
	}
	start := time.Now()
	spec, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(start)
	start = time.Now()
	if _, err := spec.Compile("CreateChatCompletionResponse"); err != nil {
		t.Fatal(err)
	}
	t.Logf("Load: %v; first compile of CreateChatCompletionResponse: %v", loaded, time.Since(start))
}

func BenchmarkLoad(b *testing.B) {
	p, err := Find()
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := Load(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateChunk(b *testing.B) {
	spec := ForTest(b)
	body := []byte(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"m",
		"choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}`)
	for b.Loop() {
		if err := spec.Validate("CreateChatCompletionStreamResponse", body); err != nil {
			b.Fatal(err)
		}
	}
}
