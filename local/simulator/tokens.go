package simulator

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// contentPart is one element of an array-valued message content.
type contentPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	ImageURL json.RawMessage `json:"image_url"`
}

// messageText flattens message content, which the API allows to be a string
// or an array of typed parts, into its text (parts joined by spaces) and
// reports whether it included an image. Content of any other shape counts
// as empty: the simulator is lenient where it does not matter for tests.
func messageText(raw json.RawMessage) (text string, hasImage bool) {
	if err := json.Unmarshal(raw, &text); err == nil {
		return text, false
	}
	var parts []contentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", false
	}
	var texts []string
	for _, p := range parts {
		switch {
		case p.Type == "text":
			texts = append(texts, p.Text)
		case p.Type == "image_url" || len(p.ImageURL) > 0:
			hasImage = true
		}
	}
	return strings.Join(texts, " "), hasImage
}

// countWords is the simulator's tokenizer for usage accounting: one token
// per whitespace-separated word.
func countWords(s string) int { return len(strings.Fields(s)) }

// splitTokens splits s into one token per word, keeping the whitespace that
// follows each word (and any leading whitespace on the first) so that the
// tokens concatenate back to exactly s. That is what lets a streamed reply
// reproduce the non-streamed one byte for byte.
func splitTokens(s string) []string {
	var starts []int
	prevSpace := true
	for i, r := range s {
		space := unicode.IsSpace(r)
		if !space && prevSpace {
			starts = append(starts, i)
		}
		prevSpace = space
	}
	if len(starts) == 0 {
		return nil
	}
	starts[0] = 0
	tokens := make([]string, len(starts))
	for i, start := range starts {
		end := len(s)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		tokens[i] = s[start:end]
	}
	return tokens
}

// truncateTokens keeps the first n tokens, trimming the whitespace after the
// last one as a model stopping mid-reply would not emit it.
func truncateTokens(tokens []string, n int) []string {
	tokens = tokens[:n:n]
	if n > 0 {
		tokens[n-1] = strings.TrimRightFunc(tokens[n-1], unicode.IsSpace)
	}
	return tokens
}

// splitFragments splits s into at most n pieces of roughly equal length,
// and at least two whenever s has two or more characters, breaking only
// between runes so that each piece survives JSON encoding intact. Real
// backends stream tool-call arguments in such fragments, and clients must
// reassemble them.
func splitFragments(s string, n int) []string {
	runes := utf8.RuneCountInString(s)
	n = max(1, min(n, runes))
	size := (runes + n - 1) / n
	var pieces []string
	start, count := 0, 0
	for i := range s {
		if count == size {
			pieces = append(pieces, s[start:i])
			start, count = i, 0
		}
		count++
	}
	return append(pieces, s[start:])
}
