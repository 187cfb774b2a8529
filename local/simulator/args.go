package simulator

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// argumentsFrom fills a tool's parameters from the user's message, as a model
// would (docs/simulator.md): each top-level property takes what its name asks for
// from the text (a city, an expression, a URL, numbers in order, an enum value
// the text names). A required property the text does not give is generated from
// the schema as before ("example", 1, ...); an optional one is left out.
func argumentsFrom(parameters json.RawMessage, text string) string {
	schema, ok := parseSchema(parameters)
	if !ok || !hasProperties(schema) {
		return "{}"
	}
	filled, ok := exampleFor(schema).(map[string]any)
	if !ok {
		return argumentsFor(parameters)
	}
	props, _ := schema["properties"].(map[string]any)
	required := map[string]bool{}
	if r, ok := schema["required"].([]any); ok {
		for _, name := range r {
			if s, ok := name.(string); ok {
				required[s] = true
			}
		}
	}
	nums := numbersIn(text)
	for _, name := range propertyOrder(parameters) {
		sub, _ := props[name].(map[string]any)
		if sub == nil {
			continue
		}
		if v, ok := fromText(name, sub, text, &nums); ok {
			filled[name] = v
		} else if !required[name] {
			delete(filled, name) // as a model leaves out what it has no value for
		}
	}
	out, err := json.Marshal(filled)
	if err != nil {
		return "{}"
	}
	return string(out)
}

// fromText is the value of one property the text gives, if it gives one; numeric
// properties take the text's numbers in order.
func fromText(name string, schema map[string]any, text string, nums *[]float64) (any, bool) {
	if enum, ok := schema["enum"].([]any); ok {
		for _, e := range enum {
			if s, ok := e.(string); ok && s != "" && strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
				return s, true
			}
		}
		return nil, false
	}
	switch schemaType(schema) {
	case "integer", "number":
		if len(*nums) == 0 {
			return nil, false
		}
		n := (*nums)[0]
		*nums = (*nums)[1:]
		if lo, ok := schema["minimum"].(float64); ok && n < lo {
			n = lo
		}
		if hi, ok := schema["maximum"].(float64); ok && n > hi {
			n = hi
		}
		if schemaType(schema) == "integer" {
			return math.Round(n), true
		}
		return n, true
	case "string", "":
		s := stringFrom(strings.ToLower(name), text)
		return s, s != ""
	}
	return nil, false
}

// stringFrom picks what a string property of that name asks for from the text.
func stringFrom(name, text string) string {
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(name, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("expr", "formula", "calculation", "equation", "math"):
		return expressionIn(text)
	case has("url", "uri", "link", "href"):
		return urlRe.FindString(text)
	case has("zone", "timezone", "tz"):
		return timeZoneIn(text)
	case has("city", "location", "place", "town", "country", "where", "region", "destination", "name", "person", "who"):
		return properNounIn(text)
	case has("query", "search", "topic", "term", "question", "prompt", "text", "description", "content", "message", "input", "subject"):
		if q := quotedIn(text); q != "" {
			return q
		}
		return strings.TrimSpace(text)
	}
	return quotedIn(text)
}

var (
	urlRe    = regexp.MustCompile(`https?://[^\s"'<>)]+`)
	numberRe = regexp.MustCompile(`-?\d+(?:\.\d+)?`)
	quotedRe = regexp.MustCompile(`"([^"]+)"|'([^']+)'|“([^”]+)”`)
	// exprRe is a run of arithmetic: numbers, operators, parentheses and the
	// calculator's function names.
	exprRe = regexp.MustCompile(`(?:(?:sqrt|ln|log|sin|cos|tan|round|abs|min|max|pi)\s*\(|[\d(])[\d\s.+\-*/^%(),a-z]*[\d)]`)
)

// numbersIn returns the numbers of the text, in order.
func numbersIn(text string) []float64 {
	var out []float64
	for _, m := range numberRe.FindAllString(text, -1) {
		if n, err := strconv.ParseFloat(m, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// expressionIn returns the longest arithmetic expression of the text that holds
// an operator or a function ("1234 * 5678", "2^10", "sqrt(2)").
func expressionIn(text string) string {
	best := ""
	for _, m := range exprRe.FindAllString(strings.ToLower(text), -1) {
		m = strings.TrimSpace(m)
		if strings.ContainsAny(m, "+-*/^%(") && len(m) > len(best) {
			best = m
		}
	}
	return best
}

// properNounIn returns the first capitalised word run that does not open a
// sentence ("Paris", "New York"), or "" when there is none.
func properNounIn(text string) string {
	words := strings.Fields(text)
	for i := 0; i < len(words); i++ {
		if i == 0 || strings.HasSuffix(words[i-1], ".") || strings.HasSuffix(words[i-1], "?") || strings.HasSuffix(words[i-1], "!") {
			continue
		}
		if !capitalised(words[i]) {
			continue
		}
		run := []string{trimPunct(words[i])}
		for j := i + 1; j < len(words) && capitalised(words[j]) && !strings.ContainsAny(words[j-1], ".,?!;:"); j++ {
			run = append(run, trimPunct(words[j]))
		}
		return strings.Join(run, " ")
	}
	return ""
}

func capitalised(w string) bool {
	w = strings.TrimLeft(w, `"'(“`)
	return w != "" && w[0] >= 'A' && w[0] <= 'Z' && trimPunct(w) != "I"
}

func trimPunct(w string) string { return strings.Trim(w, `.,?!;:"'()“”`) }

// quotedIn returns the first quoted part of the text.
func quotedIn(text string) string {
	m := quotedRe.FindStringSubmatch(text)
	for _, g := range m[min(1, len(m)):] {
		if g != "" {
			return g
		}
	}
	return ""
}

// zones are the IANA time zones of cities a message may name.
var zones = map[string]string{"tokyo": "Asia/Tokyo", "paris": "Europe/Paris", "london": "Europe/London",
	"berlin": "Europe/Berlin", "new york": "America/New_York", "los angeles": "America/Los_Angeles",
	"sydney": "Australia/Sydney", "madrid": "Europe/Madrid", "rome": "Europe/Rome", "utc": "UTC"}

var zoneRe = regexp.MustCompile(`\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b`)

// timeZoneIn returns an IANA zone the text names, or one of a city it names.
func timeZoneIn(text string) string {
	if z := zoneRe.FindString(text); z != "" {
		return z
	}
	lower := strings.ToLower(text)
	best := ""
	for city := range zones {
		if strings.Contains(lower, city) && (best == "" || len(city) > len(best)) {
			best = city
		}
	}
	return zones[best]
}

// propertyOrder returns the names of the schema's top-level properties in the
// order it lists them, so numbers fill them in the order a reader expects.
func propertyOrder(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "properties" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil
		}
		var names []string
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return names
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return names
			}
			if s, ok := name.(string); ok {
				names = append(names, s)
			}
		}
		return names
	}
	return nil
}
