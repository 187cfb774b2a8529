package docsite_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"spass/docs"
	"spass/shared/docsite"
	"spass/shared/web"
)

const nav = `
- section: Start
  pages: [quickstart, deployment]
- section: Reference
  pages: [errors]
`

// site builds a Site over an in-memory docs directory.
func site(t *testing.T, files map[string]string) *docsite.Site {
	t.Helper()
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	s, err := docsite.New(docsite.Options{Docs: m, Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve runs one docsite handler on a mux, so path values are set as in the gateway.
func serve(t *testing.T, pattern string, h web.HandlerFunc, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(pattern, web.Handle(h))
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

func TestNavListsOnlyPagesThatExist(t *testing.T) {
	cases := []struct {
		name           string
		withDeployment bool
	}{
		{"deployment page absent", false},
		{"deployment page present", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"nav.yaml":      nav,
				"quickstart.md": "# Quickstart\n\nStart here.\n",
				"errors.md":     "# Error catalog\n\nCodes.\n",
				"zebra.md":      "# Zebra notes\n\nUnlisted.\n",
			}
			if tc.withDeployment {
				files["deployment.md"] = "# Deployment\n\nRun it.\n"
			}
			s := site(t, files)
			_, body := serve(t, "GET /docs/{page}", s.Page, "/docs/quickstart", nil)
			if got := strings.Contains(body, `href="/docs/deployment"`); got != tc.withDeployment {
				t.Errorf("nav links deployment: %v, want %v", got, tc.withDeployment)
			}
			// Listed pages keep nav.yaml's order; unlisted ones land under "More".
			order := []string{`>Start<`, `href="/docs/quickstart"`, `>Reference<`, `href="/docs/errors"`, `>More<`, `href="/docs/zebra"`}
			last := -1
			for _, want := range order {
				i := strings.Index(body, want)
				if i <= last {
					t.Fatalf("%s missing or out of order in:\n%s", want, body)
				}
				last = i
			}
		})
	}
}

func TestPageRendering(t *testing.T) {
	md := "# Headers\n\nIntro with a [link](errors.md#codes), [outside](../README.md) and [site](/playground).\n\n" +
		"| a | b |\n|---|---|\n| 1 | 2 |\n\n```go\nfunc main() { _ = 1 < 2 }\n```\n\n<script>alert(1)</script>\n"
	s := site(t, map[string]string{"nav.yaml": nav, "headers.md": md, "errors.md": "# Errors\n"})
	resp, body := serve(t, "GET /docs/{page}", s.Page, "/docs/headers", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<title>Headers · SPASS gateway</title>`,
		`<h1 id="headers">Headers</h1>`,
		`href="/docs/errors#codes"`, // a page link becomes the site's URL
		`href="../README.md"`,       // a file outside docs/ is left alone
		`href="/playground"`,        // so is a site path
		`<table>`, `<td>1</td>`,     // GFM tables
		`<pre><code class="language-go">func main() { _ = 1 &lt; 2 }`, // a block highlights.json lacks renders plain, escaped
		`href="/assets/highlight.css"`,                                //
		`v9.9.9`,                                                      // the version in the header
		`<a href="/docs/headers" aria-current="page">`,                // the current page in the nav
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("raw HTML from markdown reached the page")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestUnknownPageIs404WithNav(t *testing.T) {
	s := site(t, map[string]string{"nav.yaml": nav, "errors.md": "# Errors\n"})
	resp, body := serve(t, "GET /docs/{page}", s.Page, "/docs/nope", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "Page not found") || !strings.Contains(body, `href="/docs/errors"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestNewRejectsBrokenDocs(t *testing.T) {
	cases := map[string]map[string]string{
		"page without a title": {"nav.yaml": nav, "x.md": "no heading\n"},
		"no nav.yaml":          {"x.md": "# X\n"},
		"unknown nav.yaml key": {"nav.yaml": "- section: A\n  page: [x]\n", "x.md": "# X\n"},
		"page listed twice":    {"nav.yaml": "- section: A\n  pages: [x, x]\n", "x.md": "# X\n"},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			m := fstest.MapFS{}
			for n, b := range files {
				m[n] = &fstest.MapFile{Data: []byte(b)}
			}
			if _, err := docsite.New(docsite.Options{Docs: m}); err == nil {
				t.Fatal("New accepted broken docs")
			}
		})
	}
}

// TestRealDocs renders the repository's docs/: every page has a title, every link
// between pages points at a page that exists, and the error catalog page is there.
func TestRealDocs(t *testing.T) {
	s, err := docsite.New(docsite.Options{Docs: docs.Files(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	names := s.PageNames()
	for _, want := range []string{"quickstart", "authentication", "models", "routing", "headers", "errors", "examples", "changelog"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("docs/%s.md is missing", want)
		}
	}
	for _, name := range names {
		_, body := serve(t, "GET /docs/{page}", s.Page, "/docs/"+name, nil)
		for _, link := range strings.Split(body, `href="/docs/`)[1:] {
			target := link[:strings.IndexAny(link, `"#`)]
			if target != "" && !strings.Contains(" "+strings.Join(names, " ")+" ", " "+target+" ") {
				t.Errorf("%s links to /docs/%s, which does not exist", name, target)
			}
		}
	}
	_, body := serve(t, "GET /docs", s.Index, "/docs", nil)
	if !strings.Contains(body, `href="/docs/quickstart"`) {
		t.Error("the index does not list the quickstart")
	}
	// The quickstart's code is highlighted by class, from highlights.json.
	_, body = serve(t, "GET /docs/{page}", s.Page, "/docs/quickstart", nil)
	if !strings.Contains(body, `<pre tabindex="0" class="chroma"><code><span class="line"><span class="cl">`) || strings.Contains(body, `<pre><code class="language-sh">`) {
		t.Error("the quickstart's sh blocks are not highlighted")
	}
}
