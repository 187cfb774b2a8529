package discovery

import (
	"embed"
	"io/fs"
	"net/http"
	"sync"

	"spass/docs"
	"spass/shared/apierr"
	"spass/shared/docsite"
	"spass/shared/web"
)

//go:embed openapi/*.yaml
var specFiles embed.FS

// SpecFiles returns the OpenAPI parts: base.yaml and one file per endpoint group.
func SpecFiles() fs.FS {
	sub, _ := fs.Sub(specFiles, "openapi") // cannot fail: the directory is embedded
	return sub
}

// portal builds the OpenAPI document and the docs site on first use, not in New:
// a Lambda that serves only probes never pays for rendering them. A build error (a
// bug the tests catch) answers those routes with internal_error and leaves the rest
// of the gateway serving.
type portal struct {
	spec func() ([]byte, error)
	site func() (*docsite.Site, error)
}

func newPortal(v Version) *portal {
	return &portal{
		spec: sync.OnceValues(func() ([]byte, error) {
			return BuildSpec(SpecFiles(), CurrentFacts(v.Version))
		}),
		site: sync.OnceValues(func() (*docsite.Site, error) {
			return docsite.New(docsite.Options{Docs: docs.Files(), Version: v.Version})
		}),
	}
}

// openAPI serves "GET /openapi.json".
func (p *portal) openAPI(w http.ResponseWriter, r *http.Request) error {
	b, err := p.spec()
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// page adapts a docsite handler, building the site on first use.
func (p *portal) page(h func(*docsite.Site, http.ResponseWriter, *http.Request) error) http.Handler {
	return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		s, err := p.site()
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return h(s, w, r)
	})
}

// root serves "GET /": people who open the gateway in a browser land on the docs.
func root(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/docs", http.StatusFound)
	return nil
}

// toDocs serves "GET /docs/", which people type and tools append: the index
// lives at /docs, and a permanent redirect keeps one URL for it.
func toDocs(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/docs", http.StatusMovedPermanently)
	return nil
}
