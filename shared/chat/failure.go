package chat

import (
	"context"
	"net/http"
)

// StatusFailure maps a non-200 upstream answer as the chat core does for its own
// routes: 5xx, 429, 404, 401 and 403 let the next tier try (a *router.Failure),
// other 4xx are the caller's (upstream_bad_request with the backend's message).
// It reads resp.Body. The audio, moderation and rerank routes share it, so every
// route falls back alike.
func StatusFailure(resp *http.Response) error { return statusFailure(resp) }

// TransportFailure classifies an error talking to the backend: the client gone
// (parent ended) stops, anything else lets the next tier try.
func TransportFailure(parent, attempt context.Context, err error) error {
	return transportFailure(parent, attempt, err)
}
