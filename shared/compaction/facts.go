package compaction

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Durable facts are taken from the compacted turns by rule, not by the model: a
// summary a model writes may drop a number or a name, and a small or busy model
// may write none at all; the rules keep what later turns most often need, the
// way a note-taker underlines. This is the "hybrid" of the compaction.

// Bounds of the fact list a segment carries forward.
const (
	maxFacts    = 40
	maxFactLen  = 240
	minFactLen  = 8
	factKeyword = 3
	factNumber  = 2
	factName    = 1
)

var (
	sentenceBreak = regexp.MustCompile(`[.!?;\n]+\s*`)
	keywords      = regexp.MustCompile(`(?i)\b(remember|my name|name is|called|code|number|id is|deadline|due|decided|decision|agreed|todo|to do|must|need to|will|prefer|always|never|budget|price|cost|meeting|appointment|address|email|phone|open task)\b`)
	digits        = regexp.MustCompile(`\d`)
)

// Extract returns the fact-like sentences of texts, scored, in order.
func Extract(texts []string) []string {
	var out []string
	for _, t := range texts {
		for _, s := range sentenceBreak.Split(t, -1) {
			s = strings.TrimSpace(s)
			if len(s) < minFactLen {
				continue
			}
			if len(s) > maxFactLen {
				s = s[:maxFactLen]
			}
			if score(s) >= factNumber {
				out = append(out, s)
			}
		}
	}
	return out
}

// score rates how durable a sentence looks: a keyword, a number, a name.
func score(s string) int {
	n := 0
	if keywords.MatchString(s) {
		n += factKeyword
	}
	if digits.MatchString(s) {
		n += factNumber
	}
	words := strings.Fields(s)
	for _, w := range words[min(1, len(words)):] {
		if r := []rune(w); len(r) > 1 && unicode.IsUpper(r[0]) && unicode.IsLower(r[1]) {
			n += factName
			break
		}
	}
	return n
}

// Merge adds the new facts to the old ones, dropping any already said (one
// containing the other, case and space aside), and keeps what fits in maxBytes
// and maxFacts: the highest scored first, older before newer among equals, then
// put back in their original order.
func Merge(old, fresh []string, maxBytes int) []string {
	all := slices.Clone(old)
	for _, f := range fresh {
		nf := norm(f)
		dup := false
		for i, g := range all {
			ng := norm(g)
			if strings.Contains(ng, nf) {
				dup = true
				break
			}
			if strings.Contains(nf, ng) { // the new one says more
				all[i], dup = f, true
				break
			}
		}
		if !dup {
			all = append(all, f)
		}
	}
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return score(all[b]) - score(all[a]) })
	var keep []int
	used := 0
	for _, i := range idx {
		if len(keep) == maxFacts || used+len(all[i])+3 > maxBytes {
			continue
		}
		used += len(all[i]) + 3 // "- " and a newline in the summary message
		keep = append(keep, i)
	}
	slices.Sort(keep)
	out := make([]string, len(keep))
	for i, k := range keep {
		out[i] = all[k]
	}
	return out
}

func norm(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
