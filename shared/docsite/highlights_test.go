package docsite

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"spass/docs"
)

var update = flag.Bool("update", false, "write highlights.json and assets/highlight.css from docs/")

// highlightStyle is the chroma style of code blocks. highlight.css carries it, so the
// HTML has classes only: inline styles would need the Content-Security-Policy's leave.
const highlightStyle = "github"

// TestHighlights makes highlights.json and assets/highlight.css again from docs/ with
// chroma, and fails when the committed files differ: a docs change needs
//
//	go test ./shared/docsite -run TestHighlights -update
//
// chroma is linked into this test only, never into the gateway.
func TestHighlights(t *testing.T) {
	table, css := makeHighlights(t, docs.Files())
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(table); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"highlights.json": b.Bytes(), "assets/highlight.css": css}
	for name, want := range files {
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what docs/ make (%v); run: go test ./shared/docsite -run TestHighlights -update", name, err)
		}
	}
	if len(table) < 100 {
		t.Errorf("only %d highlighted blocks in docs/", len(table))
	}
}

// makeHighlights highlights every fenced block of docs that names a language chroma
// knows, as goldmark-highlighting would: a block without a language, or with an
// unknown one, is left to the plain rendering.
func makeHighlights(t *testing.T, docs fs.FS) (map[string]string, []byte) {
	t.Helper()
	style := styles.Get(highlightStyle)
	format := chromahtml.New(chromahtml.WithClasses(true))
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	names, err := fs.Glob(docs, "*.md")
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for _, name := range names {
		src, err := fs.ReadFile(docs, name)
		if err != nil {
			t.Fatal(err)
		}
		doc := md.Parser().Parse(text.NewReader(src))
		ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			block, ok := n.(*ast.FencedCodeBlock)
			if !ok || !entering {
				return ast.WalkContinue, nil
			}
			lang, code := blockText(block, src)
			lexer := lexers.Get(lang)
			if lang == "" || lexer == nil {
				return ast.WalkSkipChildren, nil
			}
			it, err := chroma.Coalesce(lexer).Tokenise(nil, string(code))
			if err != nil {
				t.Fatalf("%s: %s block: %v", name, lang, err)
			}
			var b strings.Builder
			if err := format.Format(&b, style, it); err != nil {
				t.Fatal(err)
			}
			table[blockKey(lang, code)] = b.String()
			return ast.WalkSkipChildren, nil
		})
	}
	var css bytes.Buffer
	if err := format.WriteCSS(&css, style); err != nil {
		t.Fatal(err)
	}
	return table, css.Bytes()
}
