package backend

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// Send makes any request to the backend: method, path and header as given, the
// backend's own key added in its kind's auth header. With api, path is relative to
// the OpenAI-compatible prefix (e.g. "/audio/speech" becomes /v1/audio/speech);
// without, to the base URL (the /proxy passthrough, TEI's /rerank). h is the
// caller's to build: Send never copies a header it was not given, so a client's
// Authorization cannot reach the backend unless the caller put it in h. The caller
// owns resp.Body.
func (b *Backend) Send(ctx context.Context, method, path string, api bool, h http.Header, body io.Reader) (*http.Response, error) {
	u := b.root
	if api {
		u = b.base
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u+path, body)
	if err != nil {
		return nil, err
	}
	if h != nil {
		req.Header = h.Clone()
	}
	req.Header.Del("Authorization")
	if auth := b.auth(); auth != "" {
		req.Header.Set(b.Profile.AuthHeader, auth)
	}
	return b.client.Do(req)
}

// URL is the backend's base URL without the API prefix, for logs and docs.
func (b *Backend) URL() string { return b.root }
