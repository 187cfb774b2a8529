package openai_test

import (
	"net/http"
	"testing"

	"spass/local/gatewaytest"
)

func TestAuthAndUserHeader(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	cases := []struct {
		name   string
		mutate func(*http.Request)
		path   string
		status int
		code   string
	}{
		{"no token", func(r *http.Request) { r.Header.Del("Authorization") }, "/v1/chat/completions", 401, "missing_api_key"},
		{"not bearer", func(r *http.Request) { r.Header.Set("Authorization", "Basic abc") }, "/v1/chat/completions", 401, "missing_api_key"},
		{"wrong token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer sk-nope") }, "/v1/models", 401, "invalid_api_key"},
		{"no user header", func(r *http.Request) { r.Header.Del("SPASS-User-Id") }, "/v1/chat/completions", 400, "missing_user_header"},
		{"no user header on embeddings", func(r *http.Request) { r.Header.Del("SPASS-User-Id") }, "/v1/embeddings", 400, "missing_user_header"},
		{"user header with spaces", func(r *http.Request) { r.Header.Set("SPASS-User-Id", "a b") }, "/v1/chat/completions", 400, "missing_user_header"},
		{"user_id in query", func(r *http.Request) { r.URL.RawQuery = "user_id=bob" }, "/v1/chat/completions", 400, "user_id_not_allowed"},
		{"user_id in query on models", func(r *http.Request) { r.URL.RawQuery = "user_id=bob" }, "/v1/models", 400, "user_id_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.path == "/v1/models" {
				method = "GET"
			}
			req := env.Request(t, method, tc.path, hello)
			tc.mutate(req)
			expectError(t, gatewaytest.Do(t, req), tc.status, tc.code)
		})
	}
	if env.Sims["sim"].Requests() != 0 {
		t.Fatal("a refused request reached the backend")
	}
	// Models need a token but no user header.
	req := env.Request(t, "GET", "/v1/models", "")
	req.Header.Del("SPASS-User-Id")
	req.Header.Set("Authorization", "Bearer "+gatewaytest.ReadOnlyToken)
	if resp := gatewaytest.Do(t, req); resp.StatusCode != 200 {
		t.Fatalf("read-only token on /v1/models: %d", resp.StatusCode)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	expectError(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/nope", "")), 404, "not_found")
	expectError(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/chat/completions", "")), 405, "method_not_allowed")
}
