package lambda_test

import (
	"testing"

	"spass/local/lambda"
)

func TestRouteKey(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /v1/models":         "GET /v1/models",
		"GET /v1/models/{model}": "GET /v1/models/{model}",
		"GET /{$}":               "GET /",
		"GET /docs/{$}":          "GET /docs/",
		"/admin/queues/":         "ANY /admin/queues/{proxy+}",
		"/v1/images/{id}":        "ANY /v1/images/{id}",
		"GET /files/{path...}":   "GET /files/{path+}",
		"DELETE /v1/memory/{id}": "DELETE /v1/memory/{id}",
	} {
		if got := lambda.RouteKey(pattern); got != want {
			t.Errorf("RouteKey(%q) = %q, want %q", pattern, got, want)
		}
	}
}
