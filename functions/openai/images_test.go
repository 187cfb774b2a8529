package openai_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/openaispec"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/tools"
)

// startImages starts the default gateway (sim-image on the simulator) with the
// image store behind the chat service, as the app wires it.
func startImages(t *testing.T, s gatewaytest.Setup) *gatewaytest.Env {
	env := gatewaytest.Start(t, s)
	if env.App.Chat.Images == nil {
		env.App.Chat.Images = env.App.Store
	}
	return env
}

// send makes a request as token and end user (user "" sends no SPASS-User-Id).
func send(t *testing.T, env *gatewaytest.Env, token, user, method, path, contentType string, body []byte) *http.Response {
	t.Helper()
	req := env.Request(t, method, path, "")
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	if user == "" {
		req.Header.Del("SPASS-User-Id")
	} else {
		req.Header.Set("SPASS-User-Id", user)
	}
	return gatewaytest.Do(t, req)
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartBody is a form with one file part named field.
func multipartBody(t *testing.T, field string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, "upload.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

type imageMeta struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	ContentType string `json:"content_type"`
	Bytes       int64  `json:"bytes"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Source      string `json:"source"`
	Prompt      string `json:"prompt"`
	URL         string `json:"url"`
}

func upload(t *testing.T, env *gatewaytest.Env, token, user string, data []byte) imageMeta {
	t.Helper()
	ct, body := multipartBody(t, "file", data)
	resp := send(t, env, token, user, "POST", "/v1/images", ct, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, readAll(t, resp))
	}
	var m imageMeta
	readJSON(t, resp.Body, &m)
	return m
}

func listed(t *testing.T, env *gatewaytest.Env, token, user string) []imageMeta {
	t.Helper()
	resp := send(t, env, token, user, "GET", "/v1/images", "", nil)
	var l struct{ Data []imageMeta }
	readJSON(t, resp.Body, &l)
	return l.Data
}

func TestImageUploadFetchDelete(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	data := pngOf(t, 7, 5)
	m := upload(t, env, gatewaytest.UserToken, "alice", data)
	if !strings.HasPrefix(m.ID, "img_") || m.Object != "image" || m.ContentType != "image/png" || m.Width != 7 || m.Height != 5 ||
		m.Bytes != int64(len(data)) || m.Source != "upload" || m.URL != env.URL+"/v1/images/"+m.ID {
		t.Fatalf("upload %+v", m)
	}
	time.Sleep(2 * time.Millisecond)
	raw := send(t, env, gatewaytest.UserToken, "alice", "POST", "/v1/images", "image/png", pngOf(t, 3, 3))
	if raw.StatusCode != http.StatusCreated {
		t.Fatalf("raw upload: %d %s", raw.StatusCode, readAll(t, raw))
	}
	if l := listed(t, env, gatewaytest.UserToken, "alice"); len(l) != 2 || l[0].Width != 3 || l[1].ID != m.ID {
		t.Fatalf("list (newest first) %+v", l)
	}
	resp := send(t, env, gatewaytest.UserToken, "alice", "GET", "/v1/images/"+m.ID, "", nil)
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(resp.Header.Get("Cache-Control"), "private") {
		t.Fatalf("fetch: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := send(t, env, gatewaytest.UserToken, "alice", "DELETE", "/v1/images/"+m.ID, "", nil); resp.StatusCode != 200 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	expectError(t, send(t, env, gatewaytest.UserToken, "alice", "GET", "/v1/images/"+m.ID, "", nil), 404, "image_not_found")
	expectError(t, send(t, env, gatewaytest.UserToken, "alice", "PUT", "/v1/images/"+m.ID, "", nil), 405, "method_not_allowed")
	expectError(t, send(t, env, gatewaytest.UserToken, "alice", "GET", "/v1/images/generations", "", nil), 405, "method_not_allowed")
}

func TestImageUploadChecks(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	textCT, textForm := multipartBody(t, "file", []byte("just some text, not a picture"))
	bigCT, bigForm := multipartBody(t, "file", append(pngOf(t, 1, 1), make([]byte, 10<<20)...))
	noFileCT, noFile := multipartBody(t, "photo", pngOf(t, 1, 1))
	for _, c := range []struct {
		name, token, ct string
		body            []byte
		status          int
		code            string
	}{
		{"a text file", gatewaytest.UserToken, textCT, textForm, 400, "invalid_image"},
		{"text sent as image/png", gatewaytest.UserToken, "image/png", []byte("hello"), 400, "invalid_image"},
		{"a text/plain body", gatewaytest.UserToken, "text/plain", []byte("hello"), 400, "invalid_image"},
		{"an SVG", gatewaytest.UserToken, "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 400, "invalid_image"},
		{"over 10 MiB raw", gatewaytest.UserToken, "image/png", append(pngOf(t, 1, 1), make([]byte, 10<<20)...), 413, "body_too_large"},
		{"over 10 MiB multipart", gatewaytest.UserToken, bigCT, bigForm, 413, "body_too_large"},
		{"no file field", gatewaytest.UserToken, noFileCT, noFile, 400, "invalid_request"},
		{"read-only", gatewaytest.ReadOnlyToken, "image/png", pngOf(t, 1, 1), 403, "permission_denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectError(t, send(t, env, c.token, "alice", "POST", "/v1/images", c.ct, c.body), c.status, c.code)
		})
	}
	if l := listed(t, env, gatewaytest.AdminToken, "alice"); len(l) != 0 {
		t.Fatalf("a refused upload was stored: %+v", l)
	}
	expectError(t, send(t, env, gatewaytest.UserToken, "", "POST", "/v1/images", "image/png", pngOf(t, 1, 1)), 400, "missing_user_header")
}

func TestImageOwnership(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	m := upload(t, env, gatewaytest.UserToken, "alice", pngOf(t, 2, 2))
	for _, c := range []struct {
		name, token, user string
		delStatus         int // read-only is refused by role before any lookup
		delCode           string
	}{
		{"another user", gatewaytest.UserToken, "bob", 404, "image_not_found"},
		{"read-only as another user", gatewaytest.ReadOnlyToken, "bob", 403, "permission_denied"},
		{"another tenant, same user id", gatewaytest.OtherToken, "alice", 404, "image_not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectError(t, send(t, env, c.token, c.user, "GET", "/v1/images/"+m.ID, "", nil), 404, "image_not_found")
			expectError(t, send(t, env, c.token, c.user, "DELETE", "/v1/images/"+m.ID, "", nil), c.delStatus, c.delCode)
			if l := listed(t, env, c.token, c.user); len(l) != 0 {
				t.Fatalf("list leaked %+v", l)
			}
		})
	}
	// The same end user through a read-only token sees the image but may not delete it.
	if resp := send(t, env, gatewaytest.ReadOnlyToken, "alice", "GET", "/v1/images/"+m.ID, "", nil); resp.StatusCode != 200 {
		t.Fatalf("read-only get: %d", resp.StatusCode)
	}
	expectError(t, send(t, env, gatewaytest.ReadOnlyToken, "alice", "DELETE", "/v1/images/"+m.ID, "", nil), 403, "permission_denied")
	// The tenant's admin sees every image of the tenant, whoever the end user is.
	if l := listed(t, env, gatewaytest.AdminToken, "carol"); len(l) != 1 || l[0].ID != m.ID {
		t.Fatalf("admin list %+v", l)
	}
	if resp := send(t, env, gatewaytest.UserToken, "alice", "GET", "/v1/images/"+m.ID, "", nil); resp.StatusCode != 200 {
		t.Fatalf("the owner lost the image: %d", resp.StatusCode)
	}
	if resp := send(t, env, gatewaytest.AdminToken, "carol", "DELETE", "/v1/images/"+m.ID, "", nil); resp.StatusCode != 200 {
		t.Fatalf("admin delete: %d", resp.StatusCode)
	}
}

type imagesResponse struct {
	Created int64 `json:"created"`
	Data    []struct {
		B64JSON       string `json:"b64_json"`
		URL           string `json:"url"`
		RevisedPrompt string `json:"revised_prompt"`
	} `json:"data"`
}

func generate(t *testing.T, env *gatewaytest.Env, body string, header ...string) (*http.Response, imagesResponse) {
	t.Helper()
	req := env.Request(t, "POST", "/v1/images/generations", body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp := gatewaytest.Do(t, req)
	var out imagesResponse
	if resp.StatusCode == 200 {
		readJSON(t, resp.Body, &out)
	}
	return resp, out
}

func TestImageGenerationB64(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	resp, out := generate(t, env, `{"prompt": "a red fox", "n": 2, "size": "64x48", "quality": "high"}`)
	if resp.StatusCode != 200 || len(out.Data) != 2 || out.Created == 0 || resp.Header.Get("SPASS-Backend") != "sim" {
		t.Fatalf("generate: %d %+v", resp.StatusCode, out)
	}
	for _, d := range out.Data {
		b, err := base64.StdEncoding.DecodeString(d.B64JSON)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 64 || cfg.Height != 48 || d.URL != "" || d.RevisedPrompt != "a red fox" {
			t.Fatalf("image %dx%d %v url=%q", cfg.Width, cfg.Height, err, d.URL)
		}
	}
	// Both images were kept, as generated, with the prompt.
	l := listed(t, env, gatewaytest.AdminToken, "alice")
	if len(l) != 2 || l[0].Source != "generated" || l[0].Prompt != "a red fox" || l[0].Width != 64 {
		t.Fatalf("stored %+v", l)
	}
	// One ledger row, on route images, for the request.
	rows := env.Ledger(t, "acme")
	if len(rows) != 1 || rows[0].Route != "images" || rows[0].Model != "sim-image" || rows[0].Status != 200 ||
		rows[0].RequestID != resp.Header.Get("SPASS-Request-Id") || rows[0].UserID != "alice" {
		t.Fatalf("ledger %+v", rows)
	}
}

func TestImageGenerationURL(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	resp, out := generate(t, env, `{"model": "sim-image", "prompt": "a lighthouse", "size": "32x32", "response_format": "url"}`)
	if resp.StatusCode != 200 || len(out.Data) != 1 || out.Data[0].B64JSON != "" || !strings.HasPrefix(out.Data[0].URL, env.URL+"/v1/images/img_") {
		t.Fatalf("generate: %d %+v", resp.StatusCode, out)
	}
	img := send(t, env, gatewaytest.AdminToken, "alice", "GET", strings.TrimPrefix(out.Data[0].URL, env.URL), "", nil)
	b, _ := io.ReadAll(img.Body)
	if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 32 || img.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("fetching the url: %d %v", img.StatusCode, err)
	}
	// Behind a TLS-terminating proxy the URL says https.
	_, out = generate(t, env, `{"prompt": "x", "size": "16x16", "response_format": "url"}`, "X-Forwarded-Proto", "https")
	if !strings.HasPrefix(out.Data[0].URL, "https://"+strings.TrimPrefix(env.URL, "http://")+"/v1/images/") {
		t.Fatalf("forwarded url %q", out.Data[0].URL)
	}
}

func TestImageGenerationRefuses(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{AcmeDefaults: "{image_gen.max_n: 2}"})
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"no prompt", `{"n": 1}`, 400, "missing_parameter"},
		{"n zero", `{"prompt": "x", "n": 0}`, 400, "invalid_request"},
		{"n over image_gen.max_n", `{"prompt": "x", "n": 3}`, 400, "invalid_request"},
		{"n not an integer", `{"prompt": "x", "n": 1.5}`, 400, "invalid_request"},
		{"n a string", `{"prompt": "x", "n": "2"}`, 400, "invalid_request"},
		{"size not WxH", `{"prompt": "x", "size": "big"}`, 400, "invalid_request"},
		{"size too small", `{"prompt": "x", "size": "10x10"}`, 400, "invalid_request"},
		{"size too large", `{"prompt": "x", "size": "8000x8000"}`, 400, "invalid_request"},
		{"bad response_format", `{"prompt": "x", "response_format": "png"}`, 400, "invalid_request"},
		{"user_id in body", `{"prompt": "x", "user_id": "bob"}`, 400, "user_id_not_allowed"},
		{"unknown model", `{"prompt": "x", "model": "dall-e-9"}`, 404, "model_not_found"},
		{"a chat model", `{"prompt": "x", "model": "sim-chat"}`, 404, "model_not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := generate(t, env, c.body)
			expectError(t, resp, c.status, c.code)
		})
	}
	req := env.Request(t, "POST", "/v1/images/generations", `{"prompt": "x"}`)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.ReadOnlyToken)
	expectError(t, gatewaytest.Do(t, req), 403, "permission_denied")
	if l := listed(t, env, gatewaytest.AdminToken, "alice"); len(l) != 0 {
		t.Fatalf("a refused generation stored images: %+v", l)
	}
}

func TestImageGenerationNeedsImagesCapability(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{Sims: []string{"sim"}, YAML: `
backends:
  - {name: v, kind: vllm, base_url: "{{sim}}"}
models:
  - {id: sim-chat, chain: [{backend: v}]}
  - {id: flux, type: image, chain: [{backend: v}]}
`})
	resp, _ := generate(t, env, `{"prompt": "x"}`) // the default: the first image model
	expectError(t, resp, 501, "capability_not_supported")
}

func TestImagesResponseMatchesSpec(t *testing.T) {
	spec := openaispec.ForTest(t)
	env := startImages(t, gatewaytest.Setup{})
	for _, format := range []string{"b64_json", "url"} {
		req := env.Request(t, "POST", "/v1/images/generations", `{"prompt": "a spec-shaped cat", "size": "1024x1024", "response_format": "`+format+`"}`)
		resp := gatewaytest.Do(t, req)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", format, resp.StatusCode, body)
		}
		if err := spec.Validate("ImagesResponse", body); err != nil {
			t.Errorf("%s: %v", format, err)
		}
	}
	resp, _ := generate(t, env, `{"prompt": "x", "n": 99}`)
	if err := spec.Validate("ErrorResponse", []byte(readAll(t, resp))); err != nil {
		t.Error(err)
	}
}

// TestImageGenToolThroughThePipeline wires the image_gen tool the way the app does
// and checks that a generation inside a chat request is stored for the caller and
// billed as a sub-call of that request.
func TestImageGenToolThroughThePipeline(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	c := env.App.Chat
	gen := func(ctx context.Context, p tools.Call, prompt, size string, n int) ([]tools.ImageRef, error) {
		res, err := c.GenerateImages(ctx, p.Principal, chat.ImageRequest{Prompt: prompt, Size: size, N: n, SubCall: true}, chat.Options{}, nil)
		if err != nil {
			return nil, err
		}
		refs := make([]tools.ImageRef, len(res.Images))
		for i, img := range res.Images {
			refs[i] = tools.ImageRef{ID: img.Image.ID, URL: "/v1/images/" + img.Image.ID, Width: img.Image.Width,
				Height: img.Image.Height, RevisedPrompt: img.RevisedPrompt}
		}
		return refs, nil
	}
	reg := tools.NewRegistry()
	if err := reg.Add(tools.ImageGen(gen)); err != nil {
		t.Fatal(err)
	}
	ctx := requestid.With(context.Background(), "req_chat1")
	p := identity.Principal{Tenant: "acme", Role: "user", User: "alice"}
	out, err := reg.Run(ctx, tools.Call{Principal: p}, "image_gen", []byte(`{"prompt": "a tiny boat", "size": "16x16"}`))
	if err != nil {
		t.Fatal(err)
	}
	refs := out.(map[string]any)["images"].([]tools.ImageRef)
	if len(refs) != 1 || refs[0].Width != 16 || refs[0].URL != "/v1/images/"+refs[0].ID {
		t.Fatalf("refs %+v", refs)
	}
	if resp := send(t, env, gatewaytest.UserToken, "alice", "GET", refs[0].URL, "", nil); resp.StatusCode != 200 {
		t.Fatalf("alice fetches her generated image: %d", resp.StatusCode)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 1 || rows[0].ParentRequestID != "req_chat1" || !strings.HasPrefix(rows[0].RequestID, "req_chat1-img-") || rows[0].Route != "images" {
		t.Fatalf("ledger %+v", rows)
	}
	// Pipeline errors reach the model as tool errors with the safe message.
	_, err = reg.Run(ctx, tools.Call{Principal: p}, "image_gen", []byte(`{"prompt": "x", "size": "9999x9999"}`))
	var te *tools.Error
	if !errors.As(err, &te) || te.Code != "invalid_arguments" || !strings.Contains(te.Message, "size") {
		t.Fatalf("bad size: %v", err)
	}
}
