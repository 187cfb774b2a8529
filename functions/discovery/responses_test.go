package discovery_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// faultyYAML adds, beside the healthy simulator, models whose only backend fails in
// a chosen way, so the error responses of the document are exercised for real.
const faultyYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
  - {name: limited, kind: simulator, base_url: "{{limited}}"}
  - {name: broken, kind: simulator, base_url: "{{broken}}"}
  - {name: cut, kind: simulator, base_url: "{{cut}}"}
  - {name: tgi, kind: tgi, base_url: "{{sim}}"}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: sim}]}
  - {id: sim-vision, vision: true, chain: [{backend: sim}]}
  - {id: sim-embed, type: embedding, chain: [{backend: sim}]}
  - {id: flaky, chain: [{backend: limited, model: sim-chat}]}
  - {id: failing, chain: [{backend: broken, model: sim-chat}]}
  - {id: cutting, chain: [{backend: cut, model: sim-chat}]}
  - {id: tgi-embed, type: embedding, chain: [{backend: tgi, model: sim-embed}]}
`

// asUser sends req with an ordinary user's token instead of the admin's.
func asUser(req *http.Request) *http.Request {
	req.Header.Set("Authorization", "Bearer "+gatewaytest.UserToken)
	return req
}

const tinyPNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

// TestResponsesMatchSpec sends real requests through the gateway — every route of
// the /v1 and discovery groups, successes and catalog errors, plain and streamed —
// and validates each response against /openapi.json.
func TestResponsesMatchSpec(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim", "limited", "broken", "cut"}, YAML: faultyYAML})
	env.Sims["limited"].SetFault(simulator.Fault429)
	env.Sims["broken"].SetFault(simulator.Fault500)
	env.Sims["cut"].SetFault(simulator.FaultCut)
	c := newContract(t)
	chat := func(body string) *http.Request { return env.Request(t, "POST", "/v1/chat/completions", body) }
	get := func(path string) *http.Request {
		req, err := http.NewRequest("GET", env.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	authed := func(path string) *http.Request { return env.Request(t, "GET", path, "") }

	weather := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`
	successes := []struct {
		name string
		req  *http.Request
	}{
		{"chat", chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Hello"}]}`)},
		{"chat stream with usage", chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}],"stream":true,"stream_options":{"include_usage":true}}`)},
		{"chat stream", chat(`{"model":"sim-chat","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"stream":true}`)},
		{"tool call", chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Use get_weather: weather in Paris?"}],` + weather + `}`)},
		{"tool call streamed", chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Use get_weather: weather in Paris?"}],"stream":true,` + weather + `}`)},
		{"tool result", chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Weather?"},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"21 C"}],` + weather + `}`)},
		{"json mode", chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Colours"}],"response_format":{"type":"json_object"}}`)},
		{"vision", chat(`{"model":"sim-vision","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"` + tinyPNG + `"}}]}]}`)},
		{"embeddings", env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-embed","input":["a","b"]}`)},
		{"embeddings base64", env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-embed","input":"a","encoding_format":"base64"}`)},
		{"models", authed("/v1/models")},
		{"model", authed("/v1/models/sim-chat")},
		{"info", authed("/v1/info")},
		{"healthz", get("/healthz")},
		{"metrics", get("/metrics")},
		{"errors", get("/errors")},
		{"version", get("/api/version")},
		{"openapi.json", get("/openapi.json")},
		{"swagger ui", get("/openapi")},
		{"redoc", get("/redoc")},
		{"playground", get("/playground")},
		{"docs index", get("/docs")},
		{"docs page", get("/docs/quickstart")},
		{"asset css", get("/assets/spass.css")},
		{"asset js", get("/assets/playground.js")},
		{"asset svg", get("/assets/logo.svg")},
		{"tenant config", authed("/v1/tenant/config")},
		{"set a tenant setting", env.Request(t, "PUT", "/v1/tenant/config", `{"ratelimit.user_requests_per_minute": 600, "models.blacklist": ["flaky"]}`)},
		{"drop a tenant setting", env.Request(t, "DELETE", "/v1/tenant/config/models.blacklist", "")},
		{"drop every tenant setting", env.Request(t, "DELETE", "/v1/tenant/config", "")},
		{"usage", authed("/v1/billing/usage?bucket=hour&group_by=model")},
		{"statsz", get("/statsz")},
	}
	for _, tc := range successes {
		t.Run(tc.name, func(t *testing.T) {
			_, body := c.do(t, tc.req, http.StatusOK)
			if strings.HasPrefix(tc.name, "tool call") && !strings.Contains(string(body), `"tool_calls"`) {
				t.Fatalf("the model answered without calling the tool: %.300s", body)
			}
		})
	}

	t.Run("root redirects", func(t *testing.T) {
		resp, _ := c.do(t, get("/"), http.StatusFound)
		if resp.Header.Get("Location") != "/docs" {
			t.Fatalf("Location %q", resp.Header.Get("Location"))
		}
	})
	t.Run("asset revalidation", func(t *testing.T) {
		resp, _ := c.do(t, get("/assets/spass.css"), http.StatusOK)
		req := get("/assets/spass.css")
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		c.do(t, req, http.StatusNotModified)
	})

	noAuth := chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Hi"}]}`)
	noAuth.Header.Del("Authorization")
	badToken := authed("/v1/models")
	badToken.Header.Set("Authorization", "Bearer sk-wrong")
	noUser := chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Hi"}]}`)
	noUser.Header.Del("SPASS-User-Id")
	failures := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"missing token", noAuth, 401, "missing_api_key"},
		{"wrong token", badToken, 401, "invalid_api_key"},
		{"missing user header", noUser, 400, "missing_user_header"},
		{"user_id in the query", authed("/v1/info?user_id=bob"), 400, "user_id_not_allowed"},
		{"invalid json", chat(`{"model":`), 400, "invalid_json"},
		{"missing messages", chat(`{"model":"sim-chat"}`), 400, "missing_parameter"},
		{"unknown model", chat(`{"model":"nope","messages":[{"role":"user","content":"Hi"}]}`), 404, "model_not_found"},
		{"unknown model id", authed("/v1/models/nope"), 404, "model_not_found"},
		{"embeddings on TGI", env.Request(t, "POST", "/v1/embeddings", `{"model":"tgi-embed","input":"a"}`), 501, "capability_not_supported"},
		{"embeddings of a chat model", env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-chat","input":"a"}`), 404, "model_not_found"},
		{"upstream rate limited", chat(`{"model":"flaky","messages":[{"role":"user","content":"Hi"}]}`), 429, "upstream_rate_limited"},
		{"upstream 5xx", chat(`{"model":"failing","messages":[{"role":"user","content":"Hi"}]}`), 502, "upstream_error"},
		{"unknown asset", get("/assets/nope.js"), 404, "not_found"},
		{"setting by a user", asUser(env.Request(t, "PUT", "/v1/tenant/config", `{"cache.enabled": true}`)), 403, "permission_denied"},
		{"unknown setting", env.Request(t, "PUT", "/v1/tenant/config", `{"no.such.key": 1}`), 400, "unknown_setting"},
		{"bad usage bucket", authed("/v1/billing/usage?bucket=week"), 400, "invalid_query"},
		{"queue monitor without Redis", authed("/admin/queues/"), 501, "not_configured"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			_, body := c.do(t, tc.req, tc.status)
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != tc.code {
				t.Fatalf("code %q (%v), want %s: %s", e.Error.Code, err, tc.code, body)
			}
		})
	}
	t.Run("docs page not found", func(t *testing.T) {
		_, body := c.do(t, get("/docs/no-such-page"), http.StatusNotFound)
		if !strings.Contains(string(body), "Page not found") {
			t.Fatalf("body %.200s", body)
		}
	})
	t.Run("stream cut after the first byte", func(t *testing.T) {
		_, body := c.do(t, chat(`{"model":"cutting","messages":[{"role":"user","content":"Hello there friend"}],"stream":true}`), http.StatusOK)
		if !strings.Contains(string(body), `"code":"stream_interrupted"`) {
			t.Fatalf("no error event: %s", body)
		}
	})
	t.Run("readyz", func(t *testing.T) {
		// The faulty backends above make this gateway critical; a healthy one is ready.
		c.do(t, get("/readyz"), http.StatusServiceUnavailable)
		healthy := gatewaytest.Start(t, gatewaytest.Setup{})
		req, _ := http.NewRequest("GET", healthy.URL+"/readyz", nil)
		c.do(t, req, http.StatusOK)
	})

	if missing := c.unexercised(groupsUnderTest...); len(missing) > 0 {
		t.Errorf("operations never validated with a success: %v", missing)
	}
}
