package docsite

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	swaggerfiles "github.com/swaggo/files/v2"

	"spass/shared/apierr"
)

// asset is one file under /assets/{name}.
type asset struct {
	body  []byte
	ctype string
	etag  string
	// gzipped compresses body once, on the first request that accepts gzip: Swagger
	// UI and ReDoc are megabytes that shrink to a quarter, but a Lambda cold start
	// that serves only chat should not pay for compressing them.
	gzipped func() []byte
}

func newAsset(name string, body []byte) *asset {
	sum := sha256.Sum256(body)
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // do not depend on the host's mime.types for these
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	a := &asset{body: body, ctype: ctype, etag: `W/"` + hex.EncodeToString(sum[:12]) + `"`}
	a.gzipped = sync.OnceValue(func() []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		return b.Bytes()
	})
	return a
}

// swaggerFiles are the files of Swagger UI's dist (github.com/swaggo/files/v2) the
// /openapi page loads; its standalone preset and top bar are not used.
var swaggerFiles = []string{"swagger-ui-bundle.js", "swagger-ui.css"}

// redocCDNLogo is the one thing ReDoc's bundle fetches from the internet: the logo of
// its "API docs by Redocly" footer. Served as is, the pages' Content-Security-Policy
// blocks it (a console error) and an offline gateway could not load it anyway, so
// the served bundle shows an empty image there instead. The vendored file stays
// byte-equal to the npm package (TestReDocMatchesNPM).
var (
	redocCDNLogo = []byte("https://cdn.redoc.ly/redoc/logo-mini.svg")
	blankSVG     = []byte("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E")
)

// loadAssets gathers every asset into one flat namespace: the portal's own files
// (highlight.css among them, made with highlights.json), Swagger UI from its Go
// module and ReDoc's bundle vendored from its npm package.
func loadAssets(content fs.FS) (map[string]*asset, error) {
	out := map[string]*asset{}
	add := func(fsys fs.FS, dir, name string) error {
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return err
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("asset %s defined twice", name)
		}
		out[name] = newAsset(name, b)
		return nil
	}
	own, err := fs.Glob(content, "assets/*")
	if err != nil {
		return nil, err
	}
	for _, p := range own {
		if err := add(content, "assets", path.Base(p)); err != nil {
			return nil, err
		}
	}
	for _, name := range swaggerFiles {
		if err := add(swaggerfiles.FS, ".", name); err != nil {
			return nil, fmt.Errorf("swagger ui: %w", err)
		}
	}
	if err := add(content, "third_party/redoc", "redoc.standalone.js"); err != nil {
		return nil, fmt.Errorf("redoc: %w", err)
	}
	redoc := out["redoc.standalone.js"]
	if !bytes.Contains(redoc.body, redocCDNLogo) {
		return nil, fmt.Errorf("redoc: the bundle no longer loads %s; check it for other CDN requests and update redocCDNLogo", redocCDNLogo)
	}
	out["redoc.standalone.js"] = newAsset("redoc.standalone.js", bytes.ReplaceAll(redoc.body, redocCDNLogo, blankSVG))
	return out, nil
}

// Asset serves "GET /assets/{name}". Responses revalidate by ETag (no-cache), so an
// upgraded gateway never runs a stale script against a changed page.
func (s *Site) Asset(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		return apierr.E(apierr.NotFound, "No such asset.", nil)
	}
	h := w.Header()
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := a.body
	if len(body) > 1400 && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
