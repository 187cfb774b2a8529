package docsite

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// highlights.json holds the highlighted HTML of every fenced code block of docs/ that
// names a language, keyed by blockKey, and assets/highlight.css the stylesheet of its
// classes. Both are made at build time by the test that checks them:
//
//	go test ./shared/docsite -run TestHighlights -update
//
// A highlighter (chroma) registers hundreds of lexers at init: linked into the
// gateway, it cost every process about 5 MB of RSS and 5 ms of start-up, to serve
// pages whose code never changes between builds.
//
//go:embed highlights.json
var highlightsJSON []byte

// highlights parses highlights.json. New calls it once per site and drops the
// table with the renderer: the pages keep their own copy of each block's HTML.
func highlights() (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(highlightsJSON, &m); err != nil {
		return nil, fmt.Errorf("docsite: highlights.json: %w", err)
	}
	return m, nil
}

// blockKey names a code block by its language and text, so an edited block finds no
// stale highlighting and renders plain until the table is made again.
func blockKey(lang string, code []byte) string {
	h := sha256.New()
	h.Write([]byte(lang))
	h.Write([]byte{0})
	h.Write(code)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// blockText returns a fenced code block's language and its text.
func blockText(n *ast.FencedCodeBlock, src []byte) (lang string, code []byte) {
	for i := 0; i < n.Lines().Len(); i++ {
		line := n.Lines().At(i)
		code = append(code, line.Value(src)...)
	}
	return string(n.Language(src)), code
}

// codeBlocks renders fenced code blocks from the highlights table. A block it lacks
// (no language, or one without a lexer) renders as goldmark would render it:
// <pre><code class="language-x">, with its text escaped.
type codeBlocks struct{ table map[string]string }

func (c codeBlocks) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, c.render)
}

func (c codeBlocks) render(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	lang, code := blockText(node.(*ast.FencedCodeBlock), src)
	if html, ok := c.table[blockKey(lang, code)]; ok {
		w.WriteString(html)
		return ast.WalkSkipChildren, nil
	}
	w.WriteString("<pre><code")
	if lang != "" {
		w.WriteString(` class="language-`)
		w.Write(util.EscapeHTML([]byte(lang)))
		w.WriteByte('"')
	}
	w.WriteByte('>')
	w.Write(util.EscapeHTML(code))
	w.WriteString("</code></pre>\n")
	return ast.WalkSkipChildren, nil
}
