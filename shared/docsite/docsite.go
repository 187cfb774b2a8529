// Package docsite renders the gateway's developer portal: the markdown of docs/ as a
// site with a navigation and highlighted code, Swagger UI and ReDoc over
// /openapi.json, and the playground. Every page shares one layout and stylesheet, and
// every asset is embedded in the binary (Swagger UI from its Go module, ReDoc vendored
// from its npm package), because the gateway often runs without internet access.
package docsite

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed assets templates third_party
var content embed.FS

// Options configures a Site.
type Options struct {
	// Docs holds the markdown pages (*.md) and nav.yaml.
	Docs fs.FS
	// Version is shown in every page's header.
	Version string
}

// Site is the rendered portal. It is immutable after New and safe for concurrent use.
type Site struct {
	version string
	pages   map[string]*page
	nav     []section
	assets  map[string]*asset
	tmpl    map[string]*template.Template
}

// New renders every docs page and loads every asset up front, so a broken page fails
// here (and in tests) rather than on a reader's request.
func New(o Options) (*Site, error) {
	s := &Site{version: o.Version, pages: map[string]*page{}, tmpl: map[string]*template.Template{}}
	names, err := pageNames(o.Docs)
	if err != nil {
		return nil, err
	}
	md, err := newMarkdown()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		src, err := fs.ReadFile(o.Docs, name+".md")
		if err != nil {
			return nil, err
		}
		if s.pages[name], err = render(md, name, src); err != nil {
			return nil, err
		}
	}
	if s.nav, err = buildNav(o.Docs, s.pages); err != nil {
		return nil, err
	}
	if s.assets, err = loadAssets(content); err != nil {
		return nil, err
	}
	for _, name := range []string{"doc", "index", "notfound", "playground", "swagger", "redoc", "stt"} {
		t, err := template.ParseFS(content, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		s.tmpl[name] = t
	}
	return s, nil
}

// view is what the layout template needs.
type view struct {
	Title   string
	Section string // the top navigation entry to highlight: docs, openapi, redoc, playground
	Version string
	Nav     []section
	Page    *page
	Pages   []*page // the index's list
}

// Index serves "GET /docs": every page of the navigation with its summary.
func (s *Site) Index(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "index", view{Title: "Documentation", Section: "docs"})
}

// Page serves "GET /docs/{page}", or an HTML 404 that keeps the navigation.
func (s *Site) Page(w http.ResponseWriter, r *http.Request) error {
	p, ok := s.pages[r.PathValue("page")]
	if !ok {
		return s.render(w, http.StatusNotFound, "notfound", view{Title: "Page not found", Section: "docs"})
	}
	return s.render(w, http.StatusOK, "doc", view{Title: p.Title, Section: "docs", Page: p})
}

// Playground serves "GET /playground".
func (s *Site) Playground(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "playground", view{Title: "Playground", Section: "playground"})
}

// PlaygroundSTT serves "GET /playground/stt": speech to text from the microphone.
func (s *Site) PlaygroundSTT(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "stt", view{Title: "Speech to text", Section: "playground"})
}

// SwaggerUI serves "GET /openapi".
func (s *Site) SwaggerUI(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "swagger", view{Title: "API reference", Section: "openapi"})
}

// ReDoc serves "GET /redoc".
func (s *Site) ReDoc(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "redoc", view{Title: "API reference (ReDoc)", Section: "redoc"})
}

// contentSecurityPolicy lets pages load only this gateway's own scripts and talk
// only to this gateway, so a token typed into the playground or Swagger UI cannot be
// sent elsewhere. Inline styles are allowed because Swagger UI and ReDoc set them;
// ReDoc's search runs in a worker created from a blob.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Site) render(w http.ResponseWriter, status int, name string, v view) error {
	v.Version, v.Nav = s.version, s.nav
	if name == "index" {
		for _, sec := range s.nav {
			v.Pages = append(v.Pages, sec.Pages...)
		}
	}
	var b bytes.Buffer
	if err := s.tmpl[name].ExecuteTemplate(&b, "layout", v); err != nil {
		return fmt.Errorf("docsite: %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}

// PageNames returns the names of the rendered docs pages, sorted.
func (s *Site) PageNames() []string { return sortedKeys(s.pages) }
