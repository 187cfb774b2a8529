package simulator

import (
	"encoding/json"
	"strings"
	"unicode"
)

// fittingTools returns the one offered tool the user's message asks for without
// naming it, as a model would pick it (docs/simulator.md):
//   - every key word of the tool's name is in the message (get_weather's is
//     "weather"; verbs such as get, list or run are not key words), or
//   - at least two content words of its description are.
//
// Of several, the best fit wins: name matches first, then the most description
// words, then the first offered. A tool_choice that forces one function fits
// nothing here: the caller calls the forced one.
func fittingTools(tools []tool, toolChoice json.RawMessage, text string) []tool {
	if forcesFunction(toolChoice) {
		return nil
	}
	words := contentWords(text)
	best, bestScore := -1, 0
	for i, t := range tools {
		score := 0
		if key := keyWords(t.Function.Name); len(key) > 0 && allIn(key, words) {
			score += 100
		}
		n := 0
		for w := range contentWords(t.Function.Description) {
			if words[w] {
				n++
			}
		}
		if score == 0 && n < 2 {
			continue
		}
		if score += n; score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return nil
	}
	return []tool{tools[best]}
}

// forcesFunction reports whether tool_choice names one function.
func forcesFunction(toolChoice json.RawMessage) bool {
	var forced struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	return json.Unmarshal(toolChoice, &forced) == nil && forced.Function.Name != ""
}

// nameVerbs are the parts of tool names that say what to do, not what about.
var nameVerbs = map[string]bool{"get": true, "set": true, "list": true, "run": true, "do": true, "make": true,
	"fetch": true, "find": true, "lookup": true, "look": true, "up": true, "create": true, "add": true, "call": true,
	"read": true, "write": true, "show": true, "tool": true, "fn": true, "func": true}

// keyWords splits a tool name (snake_case, kebab-case, camelCase) into the words
// that say what it is about.
func keyWords(name string) []string {
	var out []string
	for _, w := range splitName(name) {
		if w = stem(w); len(w) >= 3 && !nameVerbs[w] {
			out = append(out, w)
		}
	}
	return out
}

func splitName(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prev := rune(0)
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return words
}

func allIn(words []string, set map[string]bool) bool {
	for _, w := range words {
		if !set[w] {
			return false
		}
	}
	return true
}

// stopWords are frequent words that say nothing about a tool.
var stopWords = map[string]bool{"what": true, "when": true, "where": true, "which": true, "that": true, "this": true,
	"with": true, "from": true, "into": true, "your": true, "have": true, "will": true, "would": true, "could": true,
	"should": true, "there": true, "their": true, "they": true, "them": true, "then": true, "than": true, "about": true,
	"please": true, "tell": true, "give": true, "like": true, "some": true, "does": true, "each": true, "only": true,
	"also": true, "more": true, "most": true, "other": true, "such": true, "used": true, "uses": true, "using": true,
	"here": true, "it's": true, "what's": true, "just": true, "been": true, "were": true, "being": true, "these": true,
	"those": true, "very": true, "instead": true, "given": true, "returns": true, "return": true,
	"the": true, "and": true, "for": true, "you": true, "are": true, "how": true, "can": true, "not": true, "but": true,
	"was": true, "its": true, "who": true, "why": true, "all": true, "any": true, "our": true, "use": true, "get": true,
	"one": true, "has": true, "had": true, "may": true, "now": true, "see": true, "way": true, "did": true, "let": true,
	"too": true, "yes": true, "out": true, "own": true}

// contentWords are the text's words of three letters or more that are not stop
// words, lowercased and stemmed.
func contentWords(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		w = strings.Trim(w, "'")
		if len(w) >= 3 && !stopWords[w] {
			set[stem(w)] = true
		}
	}
	return set
}

// stem drops a plural s, so "images" and "image" meet.
func stem(w string) string {
	if len(w) > 4 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
		return w[:len(w)-1]
	}
	return w
}
