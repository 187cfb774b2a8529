package apierr

import (
	"net/http"
	"sort"
)

// The catalog's codes, grouped by whose fault they are: the caller's, a policy's,
// a provider's (an inference backend) or the gateway's own.
const (
	// Caller.
	InvalidJSON          Code = "invalid_json"
	DuplicateKey         Code = "duplicate_key"
	InvalidRequest       Code = "invalid_request"
	MissingParameter     Code = "missing_parameter"
	UserIDInBody         Code = "user_id_not_allowed"
	MissingUserHeader    Code = "missing_user_header"
	BodyTooLarge         Code = "body_too_large"
	RequestTimeout       Code = "request_timeout"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	ModelNotFound        Code = "model_not_found"
	SystemPromptNotFound Code = "system_prompt_not_found"
	ImageNotFound        Code = "image_not_found"
	ToolNotFound         Code = "tool_not_found"
	MemoryNotFound       Code = "memory_not_found"
	ConversationNotFound Code = "conversation_not_found"
	ConversationBusy     Code = "conversation_busy"
	AgentNotFound        Code = "agent_not_found"
	AgentExists          Code = "agent_exists"
	AgentReadOnly        Code = "agent_read_only"
	InvalidAgent         Code = "invalid_agent"
	SessionNotFound      Code = "session_not_found"
	SessionBusy          Code = "session_busy"
	ContextOverflow      Code = "context_overflow"
	InvalidImage         Code = "invalid_image"
	UnknownSetting       Code = "unknown_setting"
	InvalidSetting       Code = "invalid_setting"
	InvalidQuery         Code = "invalid_query"
	FileNotFound         Code = "file_not_found"
	FileTooLarge         Code = "file_too_large"
	FileInUse            Code = "file_in_use"
	InvalidBatchFile     Code = "invalid_batch_file"
	BatchNotFound        Code = "batch_not_found"
	BatchNotCancellable  Code = "batch_not_cancellable"
	RAGIndexNotFound     Code = "rag_index_not_found"
	RAGIndexExists       Code = "rag_index_exists"
	RAGIndexLimit        Code = "rag_index_limit"
	RAGDocumentNotFound  Code = "rag_document_not_found"
	RAGDocumentExists    Code = "rag_document_exists"
	RAGDocumentTooLarge  Code = "rag_document_too_large"
	ResponseNotFound     Code = "response_not_found"

	// Authentication and policy.
	InvalidAPIKey     Code = "invalid_api_key"
	MissingAPIKey     Code = "missing_api_key"
	PermissionDenied  Code = "permission_denied"
	ModelNotAllowed   Code = "model_not_allowed"
	CapabilityMissing Code = "capability_not_supported"
	NotConfigured     Code = "not_configured"
	RateLimited       Code = "rate_limit_exceeded"
	TooManyConns      Code = "too_many_connections"

	// Provider (inference backend).
	UpstreamUnavailable Code = "upstream_unavailable"
	UpstreamTimeout     Code = "upstream_timeout"
	UpstreamRateLimited Code = "upstream_rate_limited"
	UpstreamError       Code = "upstream_error"
	UpstreamBadRequest  Code = "upstream_bad_request"
	StreamInterrupted   Code = "stream_interrupted"
	StreamInvalidEvent  Code = "stream_invalid_event"
	ToolRoundLimit      Code = "tool_round_limit"

	// Gateway.
	Internal     Code = "internal_error"
	ClientClosed Code = "client_closed_request"

	// Background jobs (archived tasks carry these codes).
	JobFailed         Code = "job_failed"
	JobPayloadInvalid Code = "job_payload_invalid"

	// Batch lines that never ran (in a batch's error file, as error.code).
	BatchExpired   Code = "batch_expired"
	BatchCancelled Code = "batch_cancelled"
)

// ContextLengthExceeded is OpenAI's code for a prompt longer than the model's
// window (the caller's fault), so SDKs that look for it recognise it.
const ContextLengthExceeded Code = "context_length_exceeded"

var catalog = map[Code]Entry{
	InvalidJSON: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The request body is not valid JSON.",
		Remediation: "Send a JSON object body with Content-Type: application/json."},
	DuplicateKey: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The request body holds the field named in `param` twice.",
		Remediation: "Send each field once: JSON parsers disagree on which of two equal keys wins."},
	InvalidRequest: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The request is not valid.",
		Remediation: "Check the named parameter against the API reference at /docs."},
	MissingParameter: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "A required parameter is missing.",
		Remediation: "Add the parameter named in `param`."},
	UserIDInBody: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "user_id is not accepted in the body or query; send the SPASS-User-Id header.",
		Remediation: "Move the end-user id to the SPASS-User-Id request header."},
	MissingUserHeader: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "This endpoint is user-scoped and needs the SPASS-User-Id header.",
		Remediation: "Send SPASS-User-Id with a stable id of your end user (1-128 printable characters)."},
	BodyTooLarge: {Type: "invalid_request_error", Status: http.StatusRequestEntityTooLarge,
		Message:     "The request body is too large.",
		Remediation: "Send a smaller body (the limit is 32 MiB)."},
	RequestTimeout: {Type: "invalid_request_error", Status: http.StatusRequestTimeout,
		Message:     "The request body did not arrive in time.",
		Remediation: "Send the whole body promptly; the gateway allows server.body_timeout (60 s by default) to read it."},
	NotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No such route.",
		Remediation: "See /openapi.json for the routes this gateway serves."},
	MethodNotAllowed: {Type: "invalid_request_error", Status: http.StatusMethodNotAllowed,
		Message:     "This method is not allowed on this route.",
		Remediation: "See /openapi.json for the methods each route accepts."},
	ModelNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "The model does not exist or is not served by this gateway.",
		Remediation: "List the served models with GET /v1/models."},
	SystemPromptNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No system prompt has that name.",
		Remediation: "List your prompts with GET /v1/system-prompts; names are case-sensitive."},
	ToolNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No stack tool has that name.",
		Remediation: "GET /v1/tools lists the tools you may run."},
	ImageNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No stored image has that id.",
		Remediation: "Upload the image with POST /v1/images and use the id it returns."},
	ConversationNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No such conversation.",
		Remediation: "Check the conversation id; GET /c1/conversations lists yours. Conversations of other users are not visible."},
	AgentNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No such agent.",
		Remediation: "GET /a1/agents lists the agents your tenant sees."},
	AgentExists: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "An agent with that name exists.",
		Remediation: "Pick another name, or PUT /a1/agents/{name} to replace your tenant's agent."},
	AgentReadOnly: {Type: "invalid_request_error", Status: http.StatusForbidden,
		Message:     "The agent is defined in a file on the gateway and cannot be changed through the API.",
		Remediation: "Ask the operator to change the file, or create an agent of your own under another name."},
	InvalidAgent: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The agent definition is not valid.",
		Remediation: "Fix the key named in `param`; docs/agents.md lists every key."},
	SessionNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No such session.",
		Remediation: "Check the session id; GET /a1/agents/{name}/sessions lists yours. Sessions of other users are not visible."},
	SessionBusy: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "Another turn or a compaction of this session is in progress.",
		Remediation: "Wait for it to finish, then send this again."},
	ContextOverflow: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The message does not fit the model's context window, even after compaction.",
		Remediation: "Send a shorter message, or use a model with a larger window."},
	ConversationBusy: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "Another turn of this conversation is in progress.",
		Remediation: "Wait for the running turn to finish, then send this one again."},
	MemoryNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No memory entry has that id.",
		Remediation: "List the entries you may read with GET /v1/memory; another user's entries read as missing."},
	InvalidImage: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The file is not a supported image.",
		Remediation: "Send a PNG, JPEG, GIF or WebP of at most 10 MiB, 50 megapixels and 16384 pixels a side, as the multipart field `file` or as a raw body with its image/* Content-Type."},
	UnknownSetting: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "That is not a tenant setting.",
		Remediation: "GET /v1/tenant/config lists every setting; see docs/tenant-config.md."},
	InvalidSetting: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The value does not fit the setting.",
		Remediation: "Check the type and bounds of the setting named in `param`; nothing was stored."},
	InvalidQuery: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "A query parameter is not valid.",
		Remediation: "Check the parameter named in `param` against the API reference."},
	FileNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No file has that id.",
		Remediation: "List your files with GET /v1/files; another user's files read as missing."},
	FileTooLarge: {Type: "invalid_request_error", Status: http.StatusRequestEntityTooLarge,
		Message:     "The file is larger than the gateway accepts.",
		Remediation: "Upload at most files.max_bytes (100 MiB by default); split a batch into several files of at most batches.max_lines requests."},
	FileInUse: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "The file is the input of a batch that has not finished.",
		Remediation: "Wait for the batch to finish, or cancel it (POST /v1/batches/{id}/cancel), then delete the file."},
	InvalidBatchFile: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The batch input file has invalid lines.",
		Remediation: "Fix the lines the message names (line numbers count from 1): each is a JSON object with a unique custom_id, method POST, the same url, and a body that url accepts. See docs/batches.md."},
	ResponseNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No stored response has that id.",
		Remediation: "Responses created with store: false are not kept; another user's or tenant's responses read as missing."},
	BatchNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No batch has that id.",
		Remediation: "List your batches with GET /v1/batches; another user's batches read as missing."},
	BatchNotCancellable: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "The batch has already finished or is finishing.",
		Remediation: "Only a validating or in_progress batch can be cancelled; GET /v1/batches/{id} shows its status."},
	BatchExpired: {Type: "api_error", Status: http.StatusRequestTimeout,
		Message:     "This request could not be executed before the completion window expired.",
		Remediation: "Submit the lines of the error file again in a new batch, or with a longer completion_window; lines that ran are in the output file."},
	BatchCancelled: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "The batch was cancelled before this request ran.",
		Remediation: "Submit the line again in a new batch if you still need it."},
	RAGIndexNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "No RAG index has that name.",
		Remediation: "GET /a1/rag/indices lists your tenant's indices; names are case-sensitive. Another tenant's indices are not visible."},
	RAGIndexExists: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "Your tenant already has a RAG index of that name.",
		Remediation: "Pick another name, or add documents to the existing index."},
	RAGIndexLimit: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "Your tenant has the most RAG indices allowed.",
		Remediation: "Delete an index you no longer need (DELETE /a1/rag/indices/{index}), or put more documents in one index and filter by metadata."},
	RAGDocumentNotFound: {Type: "invalid_request_error", Status: http.StatusNotFound,
		Message:     "The index has no document with that id.",
		Remediation: "GET /a1/rag/indices/{index}/documents lists the index's documents."},
	RAGDocumentExists: {Type: "invalid_request_error", Status: http.StatusConflict,
		Message:     "The index already has a document with that id.",
		Remediation: "Replace it with PUT /a1/rag/indices/{index}/documents/{doc}, or POST without an id to get a new one."},
	RAGDocumentTooLarge: {Type: "invalid_request_error", Status: http.StatusRequestEntityTooLarge,
		Message:     "The document is larger than a RAG document may be.",
		Remediation: "Split it into several documents of at most 1 MiB of content each."},
	ModelNotAllowed: {Type: "permission_error", Status: http.StatusForbidden,
		Message:     "Your tenant may not use this model.",
		Remediation: "Ask a tenant admin to change models.allowlist / models.blacklist, or pick another model from GET /v1/models."},
	InvalidAPIKey: {Type: "authentication_error", Status: http.StatusUnauthorized,
		Message:     "Incorrect API key provided.",
		Remediation: "Check the bearer token; ask your tenant admin for a new one."},
	MissingAPIKey: {Type: "authentication_error", Status: http.StatusUnauthorized,
		Message:     "No API key provided. Send Authorization: Bearer <token>.",
		Remediation: "Add the Authorization header with your gateway token."},
	PermissionDenied: {Type: "permission_error", Status: http.StatusForbidden,
		Message:     "Your role does not allow this operation.",
		Remediation: "Ask a tenant admin to perform it or to grant you the role."},
	CapabilityMissing: {Type: "invalid_request_error", Status: http.StatusNotImplemented,
		Message:     "No backend serving this model supports the requested capability.",
		Remediation: "Pick a model whose capabilities (GET /v1/info) include it."},
	NotConfigured: {Type: "invalid_request_error", Status: http.StatusNotImplemented,
		Message:     "This feature needs configuration the gateway does not have.",
		Remediation: "See docs/configuration.md; for example queues need REDIS_URL."},
	RateLimited: {Type: "rate_limit_error", Status: http.StatusTooManyRequests,
		Message:     "Rate limit reached.",
		Remediation: "Wait for Retry-After seconds, or ask for a higher limit."},
	TooManyConns: {Type: "rate_limit_error", Status: http.StatusTooManyRequests,
		Message:     "Too many open connections; this one was closed.",
		Remediation: "Reuse keep-alive connections and close idle ones: the gateway bounds open connections per client address (server.max_conns_per_client) and in all (server.max_conns)."},
	UpstreamUnavailable: {Type: "api_error", Status: http.StatusBadGateway,
		Message:     "No backend for this model is reachable right now.",
		Remediation: "Retry later; /readyz shows whether the gateway is degraded."},
	UpstreamTimeout: {Type: "api_error", Status: http.StatusGatewayTimeout,
		Message:     "The backend did not answer in time.",
		Remediation: "Retry later or with a smaller request."},
	UpstreamRateLimited: {Type: "rate_limit_error", Status: http.StatusTooManyRequests,
		Message:     "Every backend for this model is rate limited.",
		Remediation: "Wait for Retry-After seconds and retry."},
	UpstreamError: {Type: "api_error", Status: http.StatusBadGateway,
		Message:     "The backend failed to process the request.",
		Remediation: "Retry; if it persists, report the SPASS-Request-Id to the operator."},
	UpstreamBadRequest: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The backend rejected the request.",
		Remediation: "Check the request parameters against the model's constraints (GET /v1/info)."},
	StreamInterrupted: {Type: "api_error", Status: http.StatusBadGateway,
		Message:     "The backend stopped in the middle of the stream.",
		Remediation: "Retry the request; the partial answer is incomplete."},
	StreamInvalidEvent: {Type: "api_error", Status: http.StatusBadGateway,
		Message:     "The backend sent a stream event that is not valid JSON; the stream ends there.",
		Remediation: "Retry the request; the partial answer is incomplete. If it persists, report the SPASS-Request-Id: the backend, or a proxy in front of it, is corrupting its stream."},
	ClientClosed: {Type: "invalid_request_error", Status: 499,
		Message:     "The client closed the connection before the answer was complete.",
		Remediation: "Nothing to do; this code appears in logs and metrics only."},
	JobFailed: {Type: "api_error", Status: http.StatusInternalServerError,
		Message:     "A background job failed after its retries.",
		Remediation: "Inspect the archived task at /admin/queues; jobs are idempotent, so run it again once the cause is fixed."},
	JobPayloadInvalid: {Type: "api_error", Status: http.StatusInternalServerError,
		Message:     "A background job had a payload it could not read; it was archived without retries.",
		Remediation: "Check the producer of the task type named in the archive."},
	ToolRoundLimit: {Type: "invalid_request_error", Status: http.StatusUnprocessableEntity,
		Message:     "The model kept calling server-side tools past the round limit.",
		Remediation: "Rephrase the request, opt out of stack tools with SPASS-Tools: none, or ask the operator to raise tools.max_rounds."},
	ContextLengthExceeded: {Type: "invalid_request_error", Status: http.StatusBadRequest,
		Message:     "The messages and max_tokens do not fit the model's context window.",
		Remediation: "Shorten the messages or max_tokens, choose a model with a larger window, or ask the tenant admin to set overflow.allow so a configured overflow model serves it."},
	Internal: {Type: "api_error", Status: http.StatusInternalServerError,
		Message:     "The gateway failed unexpectedly.",
		Remediation: "Retry; if it persists, report the SPASS-Request-Id to the operator."},
}

// Lookup returns the catalog entry for code; unknown codes read as Internal.
func Lookup(code Code) Entry {
	e, ok := catalog[code]
	if !ok {
		e, code = catalog[Internal], Internal
	}
	e.Code = code
	return e
}

// Catalog returns every entry, sorted by code, for /errors and docs/errors.md.
func Catalog() []Entry {
	out := make([]Entry, 0, len(catalog))
	for c := range catalog {
		out = append(out, Lookup(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
