package rag

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"spass/shared/ragdoc"
)

// Extract returns the text of a document that gets chunked and searched, and,
// for HTML, the page's <title>. Plain text and Markdown are their own text
// (Markdown's marks cost a keyword search nothing and carry the structure the
// chunker splits on); HTML is parsed with the HTML5 parser, so malformed markup
// reads the way a browser would show it, and only its visible text is kept, a
// block element per paragraph.
func Extract(contentType, content string) (text, title string) {
	if contentType != ragdoc.TypeHTML {
		return normalizeNewlines(content), ""
	}
	doc, err := html.Parse(strings.NewReader(content))
	if err != nil { // the parser recovers from any markup; only a reader fails
		return "", ""
	}
	var w htmlText
	w.walk(doc)
	return w.text(), strings.Join(strings.Fields(w.title.String()), " ")
}

// htmlText collects visible text in paragraphs.
type htmlText struct {
	paras []string
	cur   strings.Builder
	title strings.Builder
}

// skipped are elements whose content is never shown as text.
func skipped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Math, atom.Iframe, atom.Object:
		return true
	}
	return false
}

// block reports elements that start a new paragraph.
func block(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Header, atom.Footer, atom.Aside, atom.Nav,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Li, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd,
		atom.Table, atom.Tr, atom.Blockquote, atom.Pre, atom.Br, atom.Hr, atom.Figure, atom.Figcaption, atom.Details, atom.Summary:
		return true
	}
	return false
}

func (w *htmlText) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.cur.WriteString(n.Data)
		return
	case html.ElementNode:
		if n.DataAtom == atom.Title {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode {
					w.title.WriteString(c.Data)
				}
			}
			return
		}
		if n.DataAtom == atom.Head {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				w.walk(c) // only the title is kept from the head
			}
			w.cur.Reset()
			return
		}
		if skipped(n.DataAtom) {
			return
		}
		if block(n.DataAtom) {
			w.flush()
		}
		if n.DataAtom == atom.Td || n.DataAtom == atom.Th {
			w.cur.WriteByte(' ')
		}
		if n.DataAtom == atom.Img {
			for _, a := range n.Attr {
				if a.Key == "alt" && strings.TrimSpace(a.Val) != "" {
					w.cur.WriteString(" " + a.Val + " ")
				}
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	if n.Type == html.ElementNode && block(n.DataAtom) {
		w.flush()
	}
}

// flush ends the current paragraph, with its whitespace collapsed.
func (w *htmlText) flush() {
	if p := strings.Join(strings.Fields(w.cur.String()), " "); p != "" {
		w.paras = append(w.paras, p)
	}
	w.cur.Reset()
}

func (w *htmlText) text() string {
	w.flush()
	return strings.Join(w.paras, "\n\n")
}

// normalizeNewlines turns CRLF and CR into LF, so offsets and paragraph breaks
// mean the same in every document.
func normalizeNewlines(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
