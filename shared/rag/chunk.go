package rag

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"spass/shared/ragdoc"
)

// span is a piece of the text, by byte offsets.
type span struct{ start, end int }

// Chunks splits text into passages of at most size characters that start and end
// on the text's own boundaries: paragraphs (blank lines, Markdown headings)
// first, then sentences, then words, so a passage is something a reader could
// quote. Consecutive passages share up to overlap characters of whole
// paragraphs or sentences, so a fact cut by a boundary is still whole in one of
// them. Offsets count characters (code points) from the start of the text.
func Chunks(text string, size, overlap int) []ragdoc.Chunk {
	us := units(text, size)
	var out []ragdoc.Chunk
	pos := offsets{text: text}
	width := func(i, j int) int { return utf8.RuneCountInString(text[us[i].start:us[j].end]) }
	for i := 0; i < len(us); {
		j := i
		for j+1 < len(us) && width(i, j+1) <= size {
			j++
		}
		out = append(out, ragdoc.Chunk{Seq: len(out), Offset: pos.at(us[i].start), Text: text[us[i].start:us[j].end]})
		if j+1 >= len(us) {
			break
		}
		k := j + 1 // the next passage starts here, or earlier to overlap, if that still leaves room
		for k-1 > i && width(k-1, j) <= overlap && width(k-1, j+1) <= size {
			k--
		}
		i = k
	}
	return out
}

// offsets converts increasing byte offsets of text to character offsets.
type offsets struct {
	text        string
	byte, runes int
}

func (o *offsets) at(b int) int {
	o.runes += utf8.RuneCountInString(o.text[o.byte:b])
	o.byte = b
	return o.runes
}

// units are the pieces passages are made of, none wider than size: paragraphs,
// or the sentences of a long one, or the words of a long sentence.
func units(text string, size int) []span {
	var out []span
	for _, p := range paragraphs(text) {
		if utf8.RuneCountInString(text[p.start:p.end]) <= size {
			out = append(out, p)
			continue
		}
		for _, s := range sentences(text, p) {
			if utf8.RuneCountInString(text[s.start:s.end]) <= size {
				out = append(out, s)
				continue
			}
			out = append(out, words(text, s, size)...)
		}
	}
	return out
}

// paragraphs splits at blank lines and before Markdown headings, trimming space.
func paragraphs(text string) []span {
	var out []span
	start := -1
	emit := func(end int) {
		if start >= 0 {
			if s := trim(text, span{start, end}); s.end > s.start {
				out = append(out, s)
			}
		}
		start = -1
	}
	for i := 0; i < len(text); {
		nl := strings.IndexByte(text[i:], '\n')
		end := len(text)
		if nl >= 0 {
			end = i + nl
		}
		line := text[i:end]
		switch {
		case strings.TrimSpace(line) == "":
			emit(i)
		case strings.HasPrefix(strings.TrimLeft(line, " "), "#"):
			emit(i)
			start = i
		case start < 0:
			start = i
		}
		i = end + 1
	}
	emit(len(text))
	return out
}

// sentences splits a span after ., ! or ? followed by space, and at line breaks.
func sentences(text string, p span) []span {
	var out []span
	start := p.start
	for i := p.start; i < p.end; i++ {
		c := text[i]
		end := -1
		switch {
		case c == '\n':
			end = i
		case (c == '.' || c == '!' || c == '?') && i+1 < p.end && (text[i+1] == ' ' || text[i+1] == '\n'):
			end = i + 1
		}
		if end >= 0 {
			if s := trim(text, span{start, end}); s.end > s.start {
				out = append(out, s)
			}
			start = end
		}
	}
	if s := trim(text, span{start, p.end}); s.end > s.start {
		out = append(out, s)
	}
	return out
}

// words cuts a span into pieces of at most size characters at spaces, and inside
// a word only when one word alone is wider.
func words(text string, s span, size int) []span {
	var out []span
	start, n, lastSpace := s.start, 0, -1
	for i, r := range text[s.start:s.end] {
		i += s.start
		if n == size {
			cut := i
			if lastSpace > start {
				cut = lastSpace
			}
			if p := trim(text, span{start, cut}); p.end > p.start {
				out = append(out, p)
			}
			start, lastSpace = cut, -1
			n = utf8.RuneCountInString(text[start:i])
		}
		if unicode.IsSpace(r) {
			lastSpace = i
		}
		n++
	}
	if p := trim(text, span{start, s.end}); p.end > p.start {
		out = append(out, p)
	}
	return out
}

// trim narrows a span past leading and trailing white space.
func trim(text string, s span) span {
	for s.start < s.end {
		r, w := utf8.DecodeRuneInString(text[s.start:])
		if !unicode.IsSpace(r) {
			break
		}
		s.start += w
	}
	for s.end > s.start {
		r, w := utf8.DecodeLastRuneInString(text[:s.end])
		if !unicode.IsSpace(r) {
			break
		}
		s.end -= w
	}
	return s
}
