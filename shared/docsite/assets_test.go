package docsite_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAssets(t *testing.T) {
	s := site(t, map[string]string{"nav.yaml": nav, "errors.md": "# Errors\n"})
	cases := []struct {
		name, ctype, contains string
	}{
		{"spass.css", "text/css; charset=utf-8", "--brand"},
		{"highlight.css", "text/css; charset=utf-8", ".chroma"},
		{"playground.js", "text/javascript; charset=utf-8", "import"},
		{"logo.svg", "image/svg+xml", "<svg"},
		{"swagger-ui-bundle.js", "text/javascript; charset=utf-8", "SwaggerUIBundle"},
		{"swagger-ui.css", "text/css; charset=utf-8", ".swagger-ui"},
		{"redoc.standalone.js", "text/javascript; charset=utf-8", "Redoc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := serve(t, "GET /assets/{name}", s.Asset, "/assets/"+tc.name, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(body, tc.contains) {
				t.Fatalf("%d %q, body has %q: %v", resp.StatusCode, resp.Header.Get("Content-Type"), tc.contains, strings.Contains(body, tc.contains))
			}
			etag := resp.Header.Get("ETag")
			resp, body = serve(t, "GET /assets/{name}", s.Asset, "/assets/"+tc.name, http.Header{"If-None-Match": {etag}})
			if etag == "" || resp.StatusCode != http.StatusNotModified || body != "" {
				t.Fatalf("revalidation with ETag %q: %d", etag, resp.StatusCode)
			}
		})
	}
}

func TestAssetsAreGzippedWhenAccepted(t *testing.T) {
	s := site(t, map[string]string{"nav.yaml": nav, "errors.md": "# Errors\n"})
	plainResp, plain := serve(t, "GET /assets/{name}", s.Asset, "/assets/spass.css", nil)
	resp, body := serve(t, "GET /assets/{name}", s.Asset, "/assets/spass.css", http.Header{"Accept-Encoding": {"br, gzip"}})
	if plainResp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("encodings %q and %q", plainResp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != plain || len(body) >= len(plain) {
		t.Fatalf("gzip body decodes to %d bytes (plain %d, compressed %d)", len(got), len(plain), len(body))
	}
}

func TestUnknownAsset(t *testing.T) {
	s := site(t, map[string]string{"nav.yaml": nav, "errors.md": "# Errors\n"})
	resp, body := serve(t, "GET /assets/{name}", s.Asset, "/assets/nope.js", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestPortalPagesLoadOnlyLocalAssets guards the offline promise: every script and
// stylesheet a page references is one of the gateway's own assets.
func TestPortalPagesLoadOnlyLocalAssets(t *testing.T) {
	s := site(t, map[string]string{"nav.yaml": nav, "errors.md": "# Errors\n"})
	pages := map[string]func(http.ResponseWriter, *http.Request) error{
		"/openapi": s.SwaggerUI, "/redoc": s.ReDoc, "/playground": s.Playground, "/docs": s.Index,
	}
	for path, h := range pages {
		_, body := serve(t, "GET "+path, h, path, nil)
		for _, attr := range []string{`src="`, `href="`} {
			for _, ref := range strings.Split(body, attr)[1:] {
				ref = ref[:strings.IndexByte(ref, '"')]
				if strings.Contains(ref, "//") {
					t.Errorf("%s references %s", path, ref)
				}
				if name, ok := strings.CutPrefix(ref, "/assets/"); ok {
					if resp, _ := serve(t, "GET /assets/{name}", s.Asset, "/assets/"+name, nil); resp.StatusCode != 200 {
						t.Errorf("%s references missing asset %s", path, ref)
					}
				}
			}
		}
	}
}
