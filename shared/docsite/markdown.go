package docsite

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// page is one rendered markdown file.
type page struct {
	Name    string // file name without .md: the URL is /docs/<Name>
	Title   string // the first level-1 heading
	Summary string // the first paragraph, as plain text
	HTML    template.HTML
}

// newMarkdown returns the renderer of docs pages: GitHub-flavoured markdown (tables,
// task lists, autolinks), heading ids for anchors, code highlighted from the table
// made at build time (highlights.go), and links between pages ("errors.md#x")
// rewritten to the site's URLs ("/docs/errors#x"). Raw HTML in the markdown is not
// rendered (goldmark's default), so a page cannot inject script.
func newMarkdown() (goldmark.Markdown, error) {
	table, err := highlights()
	if err != nil {
		return nil, err
	}
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(linkRewriter{}, 100)),
		),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(codeBlocks{table}, 100))),
	), nil
}

// render turns one markdown file into a page.
func render(md goldmark.Markdown, name string, src []byte) (*page, error) {
	doc := md.Parser().Parse(text.NewReader(src))
	p := &page{Name: name}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level == 1 && p.Title == "" {
			p.Title = plainText(h, src)
		}
		if para, ok := n.(*ast.Paragraph); ok && p.Summary == "" {
			p.Summary = plainText(para, src)
		}
	}
	if p.Title == "" {
		return nil, fmt.Errorf("%s.md: no level-1 heading to use as its title", name)
	}
	var b bytes.Buffer
	if err := md.Renderer().Render(&b, src, doc); err != nil {
		return nil, fmt.Errorf("%s.md: %w", name, err)
	}
	p.HTML = template.HTML(b.String()) // goldmark escapes text and drops raw HTML
	return p, nil
}

// plainText concatenates the text under n, for titles and summaries.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// linkRewriter points relative links to other markdown pages at their /docs URL, so
// the same files read well on a code host and on the site.
type linkRewriter struct{}

func (linkRewriter) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			l.Destination = []byte(siteLink(string(l.Destination)))
		}
		return ast.WalkContinue, nil
	})
}

// siteLink maps "headers.md#x" to "/docs/headers#x"; any other link is unchanged.
func siteLink(dest string) string {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") || !strings.HasSuffix(u.Path, ".md") {
		return dest
	}
	if strings.Contains(u.Path, "/") { // a file outside docs/, e.g. ../README.md
		return dest
	}
	out := "/docs/" + strings.TrimSuffix(path.Base(u.Path), ".md")
	if u.Fragment != "" {
		out += "#" + u.Fragment
	}
	return out
}
