package discovery_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
  - {id: sim-image, type: image, chain: [{backend: sim}]}
  - {id: flaky, chain: [{backend: limited, model: sim-chat}]}
  - {id: failing, chain: [{backend: broken, model: sim-chat}]}
  - {id: cutting, chain: [{backend: cut, model: sim-chat}]}
  - {id: tgi-embed, type: embedding, chain: [{backend: tgi, model: sim-embed}]}
  - {id: sim-whisper, type: transcription, chain: [{backend: sim}]}
  - {id: sim-tts, type: speech, chain: [{backend: sim}]}
  - {id: sim-moderation, type: moderation, chain: [{backend: sim}]}
  - {id: sim-rerank, type: rerank, chain: [{backend: sim}]}
`

// asUser sends req with an ordinary user's token instead of the admin's.
func asUser(req *http.Request) *http.Request {
	req.Header.Set("Authorization", "Bearer "+gatewaytest.UserToken)
	return req
}

const tinyPNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

// TestResponsesMatchSpec sends real requests through the gateway — every route of
// the /v1, /c1, /a1 and discovery groups, successes and catalog errors, plain and streamed —
// and validates each response against /openapi.json.
func TestResponsesMatchSpec(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim", "limited", "broken", "cut"}, YAML: faultyYAML, Jobs: true,
		Env: map[string]string{"SPASS_AGENTS_DIR": agentsDir(t)}})
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
	operator := func(path, token string) *http.Request {
		req := get(path)
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}

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
		{"metrics", operator("/metrics", gatewaytest.MetricsToken)},
		{"errors", get("/errors")},
		{"version", get("/api/version")},
		{"openapi.json", get("/openapi.json")},
		{"swagger ui", get("/openapi")},
		{"redoc", get("/redoc")},
		{"playground", get("/playground")},
		{"playground stt", get("/playground/stt")},
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
		{"statsz", operator("/statsz", gatewaytest.OperatorToken)},
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
	t.Run("docs/ redirects to docs", func(t *testing.T) {
		resp, _ := c.do(t, get("/docs/"), http.StatusMovedPermanently)
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
		{"queue monitor without Redis", operator("/admin/queues/", gatewaytest.OperatorToken), 501, "not_configured"},
		{"queue monitor for a tenant admin", authed("/admin/queues/"), 403, "permission_denied"},
		{"metrics without a token", get("/metrics"), 401, "missing_api_key"},
		{"statsz for a tenant admin", authed("/statsz"), 403, "permission_denied"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			_, body := c.do(t, tc.req, tc.status)
			wantCode(t, body, tc.code)
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

	t.Run("stack tools", func(t *testing.T) { exerciseStackTools(t, env, c) })
	t.Run("cache and rate limits", func(t *testing.T) { exerciseCacheAndLimits(t, env, c) })
	t.Run("images", func(t *testing.T) { exerciseImages(t, env, c) })
	t.Run("memory", func(t *testing.T) { exerciseMemory(t, env, c) })
	t.Run("system prompts", func(t *testing.T) { exercisePrompts(t, env, c) })
	t.Run("conversations", func(t *testing.T) { exerciseConversations(t, env, c) })
	t.Run("files and batches", func(t *testing.T) { exerciseBatches(t, env, c) })
	t.Run("responses api", func(t *testing.T) { exerciseResponsesAPI(t, env, c) })
	t.Run("agents", func(t *testing.T) { exerciseAgents(t, env, c) })
	t.Run("a2a", func(t *testing.T) { exerciseA2A(t, env, c) })
	t.Run("mcp", func(t *testing.T) { exerciseMCP(t, env, c) })
	t.Run("rag", func(t *testing.T) { exerciseRAG(t, env, c) })
	t.Run("audio, moderations, rerank, proxy", func(t *testing.T) { exerciseAudio(t, env, c) })

	if missing := c.unexercised(groupsUnderTest...); len(missing) > 0 {
		t.Errorf("operations never validated with a success: %v", missing)
	}
}

// wantCode fails unless body is a catalog error with code.
func wantCode(t *testing.T, body []byte, code string) {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != code {
		t.Fatalf("code %q (%v), want %s: %s", e.Error.Code, err, code, body)
	}
}

// decode reads a JSON body into v.
func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
}

// withHeader sets one header of req.
func withHeader(req *http.Request, key, value string) *http.Request {
	req.Header.Set(key, value)
	return req
}

// exerciseStackTools lists and runs the stack tools, and drives the chat tool loop:
// a stack tool run server-side (plain and streamed), SPASS-Tools opting out and
// narrowing, a turn mixing stack and caller tools, and the round limit.
func exerciseStackTools(t *testing.T, env *gatewaytest.Env, c *contract) {
	execute := func(body string) *http.Request { return env.Request(t, "POST", "/v1/tools/execute", body) }
	chat := func(body string) *http.Request { return env.Request(t, "POST", "/v1/chat/completions", body) }

	_, body := c.do(t, env.Request(t, "GET", "/v1/tools", ""), http.StatusOK)
	var list struct {
		Data []struct{ Function struct{ Name string } }
	}
	decode(t, body, &list)
	if !slices.ContainsFunc(list.Data, func(d struct{ Function struct{ Name string } }) bool { return d.Function.Name == "calculator" }) {
		t.Fatalf("calculator is not listed: %s", body)
	}
	if _, body = c.do(t, execute(`{"name":"calculator","arguments":{"expression":"2+3*4"}}`), http.StatusOK); !strings.Contains(string(body), `"result":14`) {
		t.Fatalf("calculator: %s", body)
	}
	c.do(t, execute(`{"name":"datetime","arguments":"{}"}`), http.StatusOK) // arguments as a JSON text
	if _, body = c.do(t, execute(`{"name":"calculator","arguments":{"expression":"2+"}}`), http.StatusOK); !strings.Contains(string(body), `"error":{"code":"syntax_error"`) {
		t.Fatalf("a tool failure is a 200 with error: %s", body)
	}
	_, body = c.do(t, execute(`{"name":"no_such_tool"}`), http.StatusNotFound)
	wantCode(t, body, "tool_not_found")
	_, body = c.do(t, execute(`{"arguments":{}}`), http.StatusBadRequest)
	wantCode(t, body, "missing_parameter")
	readOnly := withHeader(execute(`{"name":"memory_save","arguments":{"content":"x"}}`), "Authorization", "Bearer "+gatewaytest.ReadOnlyToken)
	_, body = c.do(t, readOnly, http.StatusForbidden)
	wantCode(t, body, "permission_denied")

	const calc = `{"model":"sim-chat","messages":[{"role":"user","content":"Use calculator: {\"expression\":\"6*7\"}"}]`
	if _, body = c.do(t, chat(calc+`}`), http.StatusOK); !strings.Contains(string(body), `\"result\":42`) || strings.Contains(string(body), "tool_calls") {
		t.Fatalf("the tool loop did not answer with the result: %s", body)
	}
	if _, body = c.do(t, chat(calc+`,"stream":true,"stream_options":{"include_usage":true}}`), http.StatusOK); strings.Contains(string(body), "tool_calls") ||
		!strings.Contains(string(body), `"total_tokens"`) {
		t.Fatalf("streamed tool loop: %s", body)
	}
	for _, header := range []string{"none", "datetime, unit_convert"} {
		if _, body = c.do(t, withHeader(chat(calc+`}`), "SPASS-Tools", header), http.StatusOK); !strings.Contains(string(body), "You said") {
			t.Fatalf("SPASS-Tools %s still offered calculator: %s", header, body)
		}
	}
	weather := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`
	mixed := `{"model":"sim-chat","messages":[{"role":"user","content":"Use calculator and get_weather"}],` + weather + `}`
	if _, body = c.do(t, chat(mixed), http.StatusOK); strings.Contains(string(body), "tool_calls") {
		t.Fatalf("the caller's call of a mixed turn reached the client: %s", body)
	}
	_, body = c.do(t, chat(`{"model":"sim-chat","messages":[{"role":"user","content":"Use calculator forever: {\"expression\":\"1+1\"}"}]}`), http.StatusUnprocessableEntity)
	wantCode(t, body, "tool_round_limit")
}

// exerciseCacheAndLimits turns on the response cache and a per-user request limit:
// a miss, a hit (no tier, no fallback count) and a refusal, all with the
// SPASS-RateLimit-* headers.
func exerciseCacheAndLimits(t *testing.T, env *gatewaytest.Env, c *contract) {
	c.do(t, env.Request(t, "PUT", "/v1/tenant/config", `{"cache.enabled": true, "ratelimit.user_requests_per_minute": 2}`), http.StatusOK)
	defer c.do(t, env.Request(t, "DELETE", "/v1/tenant/config", ""), http.StatusOK)
	req := func() *http.Request {
		return withHeader(env.Request(t, "POST", "/v1/chat/completions",
			`{"model":"sim-chat","temperature":0,"messages":[{"role":"user","content":"Cache me"}]}`), "SPASS-User-Id", "ratey")
	}
	resp, _ := c.do(t, req(), http.StatusOK)
	if h := resp.Header; h.Get("SPASS-Cache") != "miss" || h.Get("SPASS-RateLimit-Limit-Requests") != "2" || h.Get("SPASS-RateLimit-Remaining-Requests") != "1" {
		t.Fatalf("first request: %v", h)
	}
	resp, _ = c.do(t, req(), http.StatusOK)
	if h := resp.Header; h.Get("SPASS-Cache") != "hit" || h.Get("SPASS-Backend") != "cache" || h.Get("SPASS-RateLimit-Remaining-Requests") != "0" {
		t.Fatalf("second request: %v", h)
	}
	resp, body := c.do(t, req(), http.StatusTooManyRequests)
	wantCode(t, body, "rate_limit_exceeded")
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("SPASS-RateLimit-Reset") == "" {
		t.Fatalf("refusal: %v", resp.Header)
	}
}

// exerciseImages generates, uploads (multipart and raw), lists, fetches, checks,
// references in a vision request and deletes images.
func exerciseImages(t *testing.T, env *gatewaytest.Env, c *contract) {
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(tinyPNG, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	generate := func(body string) *http.Request { return env.Request(t, "POST", "/v1/images/generations", body) }
	var gen struct {
		Data []struct {
			B64JSON string `json:"b64_json"`
			URL     string `json:"url"`
		}
	}
	_, body := c.do(t, generate(`{"model":"sim-image","prompt":"a red fox","n":2,"size":"32x32","quality":"high"}`), http.StatusOK)
	if decode(t, body, &gen); len(gen.Data) != 2 || gen.Data[0].B64JSON == "" {
		t.Fatalf("b64 generation: %.300s", body)
	}
	_, body = c.do(t, generate(`{"prompt":"a lighthouse","size":"16x16","response_format":"url"}`), http.StatusOK)
	if decode(t, body, &gen); len(gen.Data) != 1 || !strings.HasPrefix(gen.Data[0].URL, env.URL+"/v1/images/img_") {
		t.Fatalf("url generation: %s", body)
	}
	_, body = c.do(t, generate(`{"n":1}`), http.StatusBadRequest)
	wantCode(t, body, "missing_parameter")

	upload := func(contentType string, data []byte, status int) []byte {
		t.Helper()
		_, body := c.do(t, withHeader(env.Request(t, "POST", "/v1/images", string(data)), "Content-Type", contentType), status)
		return body
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "pixel.png")
	fw.Write(png)
	mw.Close()
	var img struct{ ID string }
	decode(t, upload(mw.FormDataContentType(), form.Bytes(), http.StatusCreated), &img)
	var raw struct{ ID string }
	decode(t, upload("image/png", png, http.StatusCreated), &raw)
	wantCode(t, upload("text/plain", []byte("not a picture"), http.StatusBadRequest), "invalid_image")

	_, body = c.do(t, env.Request(t, "GET", "/v1/images?limit=10", ""), http.StatusOK)
	if !strings.Contains(string(body), img.ID) || !strings.Contains(string(body), `"source":"generated"`) {
		t.Fatalf("list: %.400s", body)
	}
	_, body = c.do(t, env.Request(t, "GET", "/v1/images?limit=0", ""), http.StatusBadRequest)
	wantCode(t, body, "invalid_query")
	if _, body = c.do(t, env.Request(t, "GET", "/v1/images/"+img.ID, ""), http.StatusOK); !bytes.Equal(body, png) {
		t.Fatalf("fetched %d bytes, uploaded %d", len(body), len(png))
	}
	if resp, _ := c.do(t, env.Request(t, "HEAD", "/v1/images/"+img.ID, ""), http.StatusOK); resp.Header.Get("Content-Length") != strconv.Itoa(len(png)) {
		t.Fatalf("HEAD: %v", resp.Header)
	}
	vision := func(id string) *http.Request {
		return env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-vision","messages":[{"role":"user","content":[`+
			`{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"spass://images/`+id+`"}}]}]}`)
	}
	c.do(t, vision(img.ID), http.StatusOK)
	if sent := string(env.Sims["sim"].LastRequest()); !strings.Contains(sent, tinyPNG) || strings.Contains(sent, "spass://") {
		t.Fatalf("the reference was not inlined: %.400s", sent)
	}
	readOnly := withHeader(env.Request(t, "DELETE", "/v1/images/"+raw.ID, ""), "Authorization", "Bearer "+gatewaytest.ReadOnlyToken)
	_, body = c.do(t, readOnly, http.StatusForbidden)
	wantCode(t, body, "permission_denied")
	c.do(t, env.Request(t, "DELETE", "/v1/images/"+img.ID, ""), http.StatusOK)
	_, body = c.do(t, env.Request(t, "GET", "/v1/images/"+img.ID, ""), http.StatusNotFound)
	wantCode(t, body, "image_not_found")
	_, body = c.do(t, vision(img.ID), http.StatusNotFound)
	wantCode(t, body, "image_not_found")
}

// exerciseMemory saves, lists, reads, changes and deletes memory entries in each
// scope, and is refused where the scope's rules say so.
func exerciseMemory(t *testing.T, env *gatewaytest.Env, c *contract) {
	save := func(body string) *http.Request { return env.Request(t, "POST", "/v1/memory", body) }
	var e struct{ ID string }
	_, body := c.do(t, save(`{"key":"editor","content":"Alice uses Helix","tags":["preferences"]}`), http.StatusCreated)
	decode(t, body, &e)
	c.do(t, save(`{"key":"editor","content":"Alice uses Vim"}`), http.StatusOK)
	c.do(t, save(`{"scope":"tenant","key":"wifi","content":"The guest network is Acme-5G."}`), http.StatusCreated)
	if _, body = c.do(t, save(`{"scope":"agent","agent":"planner","key":"plan","content":"Step 1 is done."}`), http.StatusCreated); !strings.Contains(string(body), `"agent":"planner"`) {
		t.Fatalf("agent entry: %s", body)
	}
	for _, query := range []string{"", "?scope=tenant", "?agent=planner&q=step&limit=5"} {
		if _, body = c.do(t, env.Request(t, "GET", "/v1/memory"+query, ""), http.StatusOK); !strings.Contains(string(body), `"object":"memory"`) {
			t.Fatalf("GET /v1/memory%s: %s", query, body)
		}
	}
	c.do(t, env.Request(t, "GET", "/v1/memory/"+e.ID, ""), http.StatusOK)
	if _, body = c.do(t, env.Request(t, "PUT", "/v1/memory/"+e.ID, `{"tags":["preferences","editor"]}`), http.StatusOK); !strings.Contains(string(body), "Alice uses Vim") {
		t.Fatalf("a tags-only change lost the content: %s", body)
	}
	c.do(t, env.Request(t, "DELETE", "/v1/memory/"+e.ID, ""), http.StatusOK)

	_, body = c.do(t, env.Request(t, "GET", "/v1/memory/"+e.ID, ""), http.StatusNotFound)
	wantCode(t, body, "memory_not_found")
	_, body = c.do(t, asUser(save(`{"scope":"tenant","content":"x"}`)), http.StatusForbidden)
	wantCode(t, body, "permission_denied")
	_, body = c.do(t, save(`{"key":"k"}`), http.StatusBadRequest)
	wantCode(t, body, "invalid_request")
	_, body = c.do(t, env.Request(t, "GET", "/v1/memory?scope=everything", ""), http.StatusBadRequest)
	wantCode(t, body, "invalid_query")
}

// exercisePrompts manages system prompts in both scopes and names one in a chat.
func exercisePrompts(t *testing.T, env *gatewaytest.Env, c *contract) {
	save := func(body string) *http.Request { return env.Request(t, "POST", "/v1/system-prompts", body) }
	chat := func(prompt string) *http.Request {
		return withHeader(env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"Hi"}]}`), "SPASS-System-Prompt", prompt)
	}
	c.do(t, save(`{"name":"support","content":"Be terse."}`), http.StatusCreated)
	c.do(t, save(`{"name":"support","content":"Be very terse."}`), http.StatusOK)
	c.do(t, save(`{"name":"house-style","scope":"tenant","content":"You write for Acme."}`), http.StatusCreated)
	if _, body := c.do(t, env.Request(t, "GET", "/v1/system-prompts", ""), http.StatusOK); !strings.Contains(string(body), "house-style") {
		t.Fatalf("list: %s", body)
	}
	c.do(t, env.Request(t, "GET", "/v1/system-prompts/support", ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/v1/system-prompts/house-style?scope=tenant", ""), http.StatusOK)
	c.do(t, chat("support"), http.StatusOK)
	var sent struct {
		Messages []struct{ Role, Content string }
	}
	if decode(t, env.Sims["sim"].LastRequest(), &sent); len(sent.Messages) != 2 || sent.Messages[0] != (struct{ Role, Content string }{"system", "Be very terse."}) {
		t.Fatalf("the prompt was not prepended: %+v", sent.Messages)
	}
	c.do(t, env.Request(t, "PUT", "/v1/system-prompts/support", `{"content":"One line."}`), http.StatusOK)
	c.do(t, env.Request(t, "PUT", "/v1/system-prompts/house-style?scope=tenant", `{"content":"You write for Acme, kindly."}`), http.StatusOK)
	c.do(t, env.Request(t, "DELETE", "/v1/system-prompts/support", ""), http.StatusOK)

	_, body := c.do(t, env.Request(t, "GET", "/v1/system-prompts/support?scope=user", ""), http.StatusNotFound)
	wantCode(t, body, "system_prompt_not_found")
	_, body = c.do(t, chat("support"), http.StatusNotFound)
	wantCode(t, body, "system_prompt_not_found")
	_, body = c.do(t, save(`{"name":"Support","content":"x"}`), http.StatusBadRequest)
	wantCode(t, body, "invalid_request")
	_, body = c.do(t, asUser(env.Request(t, "PUT", "/v1/system-prompts/house-style?scope=tenant", `{"content":"hacked"}`)), http.StatusForbidden)
	wantCode(t, body, "permission_denied")
	_, body = c.do(t, env.Request(t, "DELETE", "/v1/system-prompts/house-style?scope=global", ""), http.StatusBadRequest)
	wantCode(t, body, "invalid_query")
}

// exerciseRAG creates an index, adds documents (Markdown and HTML), waits for their
// rag:index jobs, lists, reads, replaces (metadata only, then content), queries in
// each mode and deletes, with the catalog's refusals on the way.
func exerciseRAG(t *testing.T, env *gatewaytest.Env, c *contract) {
	env.RunJobs(t)
	do := func(method, path, body string, status int) []byte {
		t.Helper()
		_, b := c.do(t, env.Request(t, method, path, body), status)
		return b
	}
	const kb = "/a1/rag/indices/kb"
	do("POST", "/a1/rag/indices", `{"name":"kb","description":"runbooks","dimensions":64,"chunk_size":200}`, http.StatusCreated)
	wantCode(t, do("POST", "/a1/rag/indices", `{"name":"kb"}`, http.StatusConflict), "rag_index_exists")
	wantCode(t, do("POST", "/a1/rag/indices", `{"name":"x","embedding_model":"sim-chat"}`, http.StatusNotFound), "model_not_found")
	do("POST", kb+"/documents", `{"id":"relay","title":"Orion relay","content":"# Setup\n\nThe relay listens on port 8443.","content_type":"text/markdown","metadata":{"team":"ops"}}`, http.StatusAccepted)
	do("POST", kb+"/documents", `{"id":"menu","content":"<title>Lunch</title><p>Soup: tomato.</p>","content_type":"text/html"}`, http.StatusAccepted)
	wantCode(t, do("POST", kb+"/documents", `{"id":"relay","content":"again"}`, http.StatusConflict), "rag_document_exists")
	wantCode(t, do("POST", kb+"/documents", `{"content":"`+strings.Repeat("x", 1<<20+1)+`"}`, http.StatusRequestEntityTooLarge), "rag_document_too_large")
	wantCode(t, asUserDo(t, env, c, "DELETE", kb, http.StatusForbidden), "permission_denied")
	for _, id := range []string{"relay", "menu"} {
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(string(do("GET", kb+"/documents/"+id, "", http.StatusOK)), `"status":"indexed"`) {
			if time.Now().After(deadline) {
				t.Fatalf("%s is not indexed", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	do("GET", "/a1/rag/indices", "", http.StatusOK)
	do("GET", kb, "", http.StatusOK)
	do("GET", kb+"/documents?limit=1&status=indexed", "", http.StatusOK)
	do("PUT", kb+"/documents/relay", `{"title":"Orion relay","content":"# Setup\n\nThe relay listens on port 8443.","content_type":"text/markdown","metadata":{"team":"platform"}}`, http.StatusOK)
	do("PUT", kb+"/documents/relay", `{"title":"Orion relay","content":"The relay moved to port 9443.","metadata":{"team":"ops"}}`, http.StatusAccepted)
	for _, q := range []string{`{"query":"relay port","top_k":2}`, `{"query":"relay port","mode":"keyword","filter":{"team":["platform","ops"]}}`, `{"query":"soup","mode":"vector"}`} {
		if body := do("POST", kb+"/query", q, http.StatusOK); !strings.Contains(string(body), `"chunk_id"`) {
			t.Fatalf("query %s found nothing: %s", q, body)
		}
	}
	wantCode(t, do("POST", kb+"/query", `{"query":"x","mode":"fuzzy"}`, http.StatusBadRequest), "invalid_request")
	wantCode(t, do("GET", "/a1/rag/indices/nope", "", http.StatusNotFound), "rag_index_not_found")
	wantCode(t, do("GET", kb+"/documents/nope", "", http.StatusNotFound), "rag_document_not_found")
	do("DELETE", kb+"/documents/menu", "", http.StatusOK)
	do("DELETE", kb, "", http.StatusOK)
}

// asUserDo sends a request with a user's token and returns the body.
func asUserDo(t *testing.T, env *gatewaytest.Env, c *contract, method, path string, status int) []byte {
	t.Helper()
	_, b := c.do(t, asUser(env.Request(t, method, path, "")), status)
	return b
}
