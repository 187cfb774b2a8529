// Package redact finds what must not leave the house in a chat request (e-mail
// addresses, phone numbers, card numbers, API keys and tokens, a tenant's own
// patterns) and replaces each with a placeholder such as [EMAIL_1] that it can put
// back in the answer. The chat core uses it for requests that go to a cloud tier.
package redact

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Kind is what a redacted value was; it names the placeholder ([EMAIL_1]).
type Kind string

// The kinds of values found.
const (
	Email  Kind = "EMAIL"
	Phone  Kind = "PHONE"
	Card   Kind = "CARD"
	Key    Kind = "KEY"
	Custom Kind = "REDACTED"
)

// KindNames lists every kind, for metrics that show each from the start.
func KindNames() []string {
	return []string{string(Email), string(Phone), string(Card), string(Key), string(Custom)}
}

// rule finds one kind of value. group selects the part of a match that is
// redacted (0: all of it), so "Bearer " or "api_key=" stay readable to the model.
// check, when set, confirms a candidate (Luhn for cards, entropy for keys).
type rule struct {
	kind  Kind
	re    *regexp.Regexp
	group int
	check func(string) bool
}

// Rules are the detectors one tenant's requests run through: the built-in ones,
// then the tenant's patterns. They are immutable and safe to share.
type Rules struct{ list []rule }

// builtin are the detectors every redaction runs. Order matters where matches
// overlap: the first match starting at a position wins, so keys and cards come
// before phone numbers.
var builtin = []rule{
	{kind: Email, re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)},
	{kind: Key, re: regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{16,}`)},
	{kind: Key, re: regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})`), group: 1},
	{kind: Key, re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{kind: Key, re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`)},
	{kind: Key, re: regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{kind: Key, re: regexp.MustCompile(`(?i)\b[a-z0-9_.-]*(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key)["']?\s*[:=]\s*["']?([A-Za-z0-9._~+/=-]{12,})`),
		group: 1, check: highEntropy},
	{kind: Card, re: regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`), check: luhn},
	{kind: Phone, re: regexp.MustCompile(`\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}\b`), check: phoneDigits},
	{kind: Phone, re: regexp.MustCompile(`(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b`)},
}

// Compile returns the built-in rules followed by patterns (Go regular
// expressions, RE2 syntax: linear time whatever a tenant writes). A pattern
// with a capture group redacts the group's text only.
func Compile(patterns []string) (*Rules, error) {
	r := &Rules{list: builtin}
	if len(patterns) == 0 {
		return r, nil
	}
	r.list = append([]rule(nil), builtin...)
	for _, p := range patterns {
		re, err := CheckPattern(p)
		if err != nil {
			return nil, err
		}
		g := 0
		if re.NumSubexp() > 0 {
			g = 1
		}
		r.list = append(r.list, rule{kind: Custom, re: re, group: g})
	}
	return r, nil
}

// CheckPattern compiles one custom pattern, refusing one that matches the empty
// string (it would redact between every character).
func CheckPattern(p string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", p, err)
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("pattern %q matches the empty string", p)
	}
	return re, nil
}

// span is one value to redact in a string.
type span struct {
	start, end int
	kind       Kind
}

// find returns the non-overlapping values in s, in order.
func (r *Rules) find(s string) []span {
	var out []span
	for _, ru := range r.list {
		for _, m := range ru.re.FindAllStringSubmatchIndex(s, -1) {
			st, en := m[2*ru.group], m[2*ru.group+1]
			if st < 0 || st == en || ru.check != nil && !ru.check(s[st:en]) {
				continue
			}
			if !overlaps(out, st, en) {
				out = append(out, span{st, en, ru.kind})
			}
		}
	}
	sortSpans(out)
	return out
}

func overlaps(spans []span, st, en int) bool {
	for _, s := range spans {
		if st < s.end && s.start < en {
			return true
		}
	}
	return false
}

func sortSpans(s []span) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// luhn reports whether the digits of s (13 to 19, separators ignored) pass the
// Luhn check, as every payment card number does.
func luhn(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 13 && n <= 19 && sum%10 == 0
}

// phoneDigits keeps international numbers of 8 to 15 digits (E.164).
func phoneDigits(s string) bool {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n >= 8 && n <= 15
}

// highEntropy tells a secret from a word: a key=value whose value mixes enough
// different characters (Shannon entropy of at least 3 bits per character) and
// is not all letters, so "token=refreshed_every_hour" stays.
func highEntropy(s string) bool {
	if strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return false
	}
	var freq [256]int
	for i := 0; i < len(s); i++ {
		freq[s[i]]++
	}
	h := 0.0
	for _, f := range freq {
		if f > 0 {
			p := float64(f) / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h >= 3
}
