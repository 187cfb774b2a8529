package openai_test

import (
	"bytes"
	"encoding/json"
	"image"
	pngenc "image/png"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

func TestChatPassesBodyThroughAndRewritesModel(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{
		Sims:       []string{"up"},
		SimOptions: simulator.Options{Models: []string{"org/real-name"}},
		YAML: `
backends: [{name: up, kind: vllm, base_url: "{{up}}"}]
models: [{id: alias, chain: [{backend: up, model: org/real-name}]}]
`,
	})
	body := `{"model":"alias","messages":[{"role":"user","content":"Hi"}],"temperature":0.3,"x_vendor":{"keep":[1,2]},"user":"u1"}`
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", body))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var sent map[string]any
	if err := json.Unmarshal(env.Sims["up"].LastRequest(), &sent); err != nil {
		t.Fatal(err)
	}
	if sent["model"] != "org/real-name" {
		t.Errorf("upstream model = %v", sent["model"])
	}
	if sent["temperature"] != 0.3 || sent["user"] != "u1" || sent["x_vendor"] == nil {
		t.Errorf("unknown or standard fields lost: %v", sent)
	}
	if resp.Header.Get("SPASS-Backend") != "up" || resp.Header.Get("SPASS-Tier") != "T1" ||
		resp.Header.Get("SPASS-Fallback-Count") != "0" || !strings.HasPrefix(resp.Header.Get("SPASS-Request-Id"), "req_") {
		t.Errorf("headers %v", resp.Header)
	}
}

func TestStreamUsageIsAskedForAndStripped(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", helloStream))
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := sseEvents(t, resp.Body)
	if !strings.Contains(string(env.Sims["sim"].LastRequest()), `"include_usage":true`) {
		t.Error("the gateway did not ask the backend for usage")
	}
	for _, e := range events {
		if strings.Contains(e, `"usage":{`) {
			t.Errorf("usage chunk reached a client that did not ask: %s", e)
		}
	}
	if events[len(events)-1] != "[DONE]" || content(t, events) != "Hello! You said: Hello there" {
		t.Errorf("events %v", events)
	}

	withUsage := `{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}],"stream":true,"stream_options":{"include_usage":true}}`
	events = sseEvents(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", withUsage)).Body)
	usage := events[len(events)-2]
	if !strings.Contains(usage, `"choices":[]`) || !strings.Contains(usage, `"total_tokens"`) {
		t.Errorf("client asked for usage and got %s", usage)
	}
}

func TestNonStreamMatchesStream(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	var c struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	readJSON(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello)).Body, &c)
	stream := content(t, sseEvents(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", helloStream)).Body))
	if c.Choices[0].Message.Content != stream || c.Usage.TotalTokens == 0 {
		t.Fatalf("non-stream %q (usage %d) vs stream %q", c.Choices[0].Message.Content, c.Usage.TotalTokens, stream)
	}
}

func TestBadRequests(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not json", `{"model":`, 400, "invalid_json"},
		{"array body", `[1]`, 400, "invalid_json"},
		{"no model", `{"messages":[{"role":"user","content":"x"}]}`, 400, "missing_parameter"},
		{"no messages", `{"model":"sim-chat"}`, 400, "missing_parameter"},
		{"bad stream", `{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"stream":"yes"}`, 400, "invalid_request"},
		{"user_id in body", `{"model":"sim-chat","user_id":"bob","messages":[{"role":"user","content":"x"}]}`, 400, "user_id_not_allowed"},
		{"unknown model", `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "model_not_found"},
		{"embedding model for chat", `{"model":"sim-embed","messages":[{"role":"user","content":"x"}]}`, 404, "model_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", tc.body))
			expectError(t, resp, tc.status, tc.code)
		})
	}
	if n := env.Sims["sim"].Requests(); n != 0 {
		t.Errorf("%d bad requests reached the backend", n)
	}
}

func TestEmbeddings(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	var out struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-embed","input":["a","b"]}`))
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || len(out.Data) != 2 || len(out.Data[0].Embedding) == 0 {
		t.Fatalf("status %d data %+v", resp.StatusCode, out)
	}
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-embed"}`))
	expectError(t, resp, 400, "missing_parameter")
}

func TestCapabilityMissingIs501(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{
		Sims: []string{"tgi"},
		YAML: `
backends: [{name: tgi, kind: tgi, base_url: "{{tgi}}"}]
models:
  - {id: sim-embed, type: embedding, chain: [{backend: tgi}]}
`,
	})
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/embeddings", `{"model":"sim-embed","input":"x"}`))
	expectError(t, resp, 501, "capability_not_supported")
	if env.Sims["tgi"].Requests() != 0 {
		t.Error("a request TGI cannot serve was proxied")
	}
}

func TestModelsAndInfo(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	var list struct {
		Object string
		Data   []struct{ ID, Object string }
	}
	readJSON(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/models", "")).Body, &list)
	if list.Object != "list" || len(list.Data) != 8 || list.Data[0].ID != "sim-chat" {
		t.Fatalf("models %+v", list)
	}
	resp := gatewaytest.Do(t, env.Request(t, "GET", "/v1/models/nope", ""))
	expectError(t, resp, 404, "model_not_found")

	var info struct {
		Data []struct {
			ID         string
			Modalities struct{ Input []string }
			Tools      bool `json:"tools"`
			Tiers      []struct{ Tier, Backend string }
		}
	}
	readJSON(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/info", "")).Body, &info)
	vision := info.Data[len(info.Data)-2] // sim-whisper sorts after it
	if vision.ID != "sim-vision" || len(vision.Modalities.Input) != 2 || !vision.Tools || vision.Tiers[0].Tier != "T1" {
		t.Fatalf("info %+v", info.Data)
	}
}

func TestImagesNeedAVisionModel(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	body := func(model string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`
	}
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", body("sim-chat"))), 501, "capability_not_supported")
	if resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", body("sim-vision"))); resp.StatusCode != 200 {
		t.Fatalf("vision model: %d", resp.StatusCode)
	}
}

func TestImageRefsAreOwnerScoped(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	var png bytes.Buffer
	if err := pngenc.Encode(&png, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	as := func(user string, req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer "+gatewaytest.UserToken)
		req.Header.Set("SPASS-User-Id", user)
		return req
	}
	up := as("alice", env.Request(t, "POST", "/v1/images", png.String()))
	up.Header.Set("Content-Type", "image/png")
	var img struct{ ID string }
	resp := gatewaytest.Do(t, up)
	readJSON(t, resp.Body, &img)
	if resp.StatusCode != 201 || img.ID == "" {
		t.Fatalf("upload %d %+v", resp.StatusCode, img)
	}
	body := `{"model":"sim-vision","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"spass://images/` + img.ID + `"}}]}]}`
	if resp := gatewaytest.Do(t, as("alice", env.Request(t, "POST", "/v1/chat/completions", body))); resp.StatusCode != 200 {
		t.Fatalf("owner's reference: %d", resp.StatusCode)
	}
	if !strings.Contains(string(env.Sims["sim"].LastRequest()), "data:image/png;base64,") {
		t.Fatal("the reference was not inlined")
	}
	expectError(t, gatewaytest.Do(t, as("bob", env.Request(t, "POST", "/v1/chat/completions", body))), 404, "image_not_found")
	req := env.Request(t, "POST", "/v1/chat/completions", body)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.OtherToken)
	expectError(t, gatewaytest.Do(t, req), 404, "image_not_found")
}
