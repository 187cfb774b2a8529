package tools

import (
	"html"
	"strings"
)

// readableText reduces an HTML document to its title and visible text: scripts,
// styles and other non-text elements dropped, tags removed, entities decoded,
// whitespace collapsed, with headings and list items marked the way Markdown does so
// the model still sees the page's structure. It is a tolerant scanner, not a full
// HTML5 parser (golang.org/x/net/html is not a dependency): for reading a page into a
// model's context that is enough, and malformed markup never makes it fail.
func readableText(doc string) (title, text string) {
	lower := asciiLower(doc) // same byte offsets as doc
	var b strings.Builder
	for i := 0; i < len(doc); {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			b.WriteString(html.UnescapeString(doc[i:]))
			break
		}
		b.WriteString(html.UnescapeString(doc[i : i+j]))
		i += j
		if strings.HasPrefix(doc[i:], "<!--") {
			end := strings.Index(doc[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		name, closing, end := scanTag(lower, i)
		if end < 0 {
			break // an unterminated tag: the rest is markup
		}
		if name == "" {
			if end == i+1 {
				b.WriteByte('<') // a literal "<", as in "a < b"
			} // else a doctype, CDATA section or processing instruction: skipped
			i = end
			continue
		}
		i = end
		if closing {
			if blockTag(name) {
				b.WriteByte('\n')
			}
			continue
		}
		if skippedTag(name) {
			k := strings.Index(lower[i:], "</"+name)
			content := doc[i:]
			if k >= 0 {
				content = doc[i : i+k]
				if gt := strings.IndexByte(lower[i+k:], '>'); gt >= 0 {
					i += k + gt + 1
				} else {
					i = len(doc)
				}
			} else {
				i = len(doc)
			}
			if name == "title" && title == "" {
				title = strings.Join(strings.Fields(html.UnescapeString(content)), " ")
			}
			continue
		}
		switch {
		case len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6':
			b.WriteString("\n" + strings.Repeat("#", int(name[1]-'0')) + " ")
		case name == "li":
			b.WriteString("\n- ")
		case name == "td" || name == "th":
			b.WriteString(" | ")
		case name == "br" || blockTag(name):
			b.WriteByte('\n')
		}
	}
	return title, collapseLines(b.String())
}

// scanTag reads the tag starting at lower[i] == '<'. It returns the lower-case tag
// name ("" when this is not a start or end tag), whether it is an end tag, and the
// index just past its '>' (-1 if there is none). Quoted attribute values may hold '>'.
func scanTag(lower string, i int) (name string, closing bool, end int) {
	k := i + 1
	if k < len(lower) && lower[k] == '/' {
		closing = true
		k++
	}
	start := k
	for k < len(lower) && (lower[k] >= 'a' && lower[k] <= 'z' || lower[k] >= '0' && lower[k] <= '9' || lower[k] == '-') {
		k++
	}
	if k == start || lower[start] < 'a' || lower[start] > 'z' {
		if k < len(lower) && (lower[k] == '!' || lower[k] == '?') && !closing {
			if gt := strings.IndexByte(lower[k:], '>'); gt >= 0 {
				return "", false, k + gt + 1
			}
			return "", false, -1
		}
		return "", false, i + 1
	}
	name = lower[start:k]
	var quote byte
	for ; k < len(lower); k++ {
		switch c := lower[k]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, closing, k + 1
		}
	}
	return name, closing, -1
}

// skippedTag reports elements whose content is not page text. title is read
// separately.
func skippedTag(name string) bool {
	switch name {
	case "script", "style", "noscript", "template", "svg", "math", "iframe", "object",
		"canvas", "select", "textarea", "nav", "title":
		return true
	}
	return false
}

// blockTag reports elements that start a new line of text.
func blockTag(name string) bool {
	switch name {
	case "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
		"pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "form", "fieldset",
		"figure", "figcaption", "hr", "address", "details", "summary",
		"h1", "h2", "h3", "h4", "h5", "h6":
		return true
	}
	return false
}

// collapseLines squeezes runs of whitespace (including non-breaking spaces) inside
// each line and drops empty lines: tokens are what the model pays for.
func collapseLines(s string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimPrefix(strings.Join(strings.FieldsFunc(line, isSpace), " "), "| ")
		if line != "" && line != "-" && line != "|" && strings.Trim(line, "#") != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\f' || r == '\v' || r == '\u00a0' || r == '\u200b'
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
