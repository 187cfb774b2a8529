package simulator

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Weights of EmbedText's features: a whole word counts most; its character
// trigrams let a misspelt or inflected word still land near the right one.
const (
	wordWeight    = 1.0
	trigramWeight = 0.35
)

// EmbedText is the simulator's embedding of a text: a bag of words. Each
// lower-cased word (stop words left out) and each character trigram of the word
// padded with spaces is hashed to one of dims dimensions with a hashed sign (the
// hashing trick: counts of hashed features, projected to a fixed size), and the
// sum is normalized to unit length. Cosine similarity then measures the words
// and fragments two texts share, which is what retrieval over a real model
// depends on too, minus synonyms. A text with no features falls back to the
// hash of the whole text, so every input still gets a unit vector. The RAG
// benchmark seeds its chunks with it, to score what the simulator would return.
func EmbedText(text string, dims int) []float32 {
	acc := make([]float64, dims)
	any := false
	add := func(feature string, w float64) {
		h := fnv.New64a()
		h.Write([]byte(feature))
		x := h.Sum64()
		if x>>63 == 1 {
			w = -w
		}
		acc[x%uint64(dims)] += w
		any = true
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if isStopWord(w) {
			continue
		}
		add("w:"+w, wordWeight)
		padded := []rune(" " + w + " ")
		for i := 0; i+3 <= len(padded); i++ {
			add("t:"+string(padded[i:i+3]), trigramWeight)
		}
	}
	var norm float64
	for _, v := range acc {
		norm += v * v
	}
	if !any || norm == 0 {
		return embed("text:"+text, dims)
	}
	norm = math.Sqrt(norm)
	out := make([]float32, dims)
	for i, v := range acc {
		out[i] = float32(v / norm)
	}
	return out
}

// isStopWord reports English function words, left out as a real model all but
// ignores them.
func isStopWord(w string) bool {
	switch w {
	case "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have", "how",
		"i", "if", "in", "is", "it", "its", "of", "on", "or", "our", "so", "that", "the", "their", "them", "then",
		"there", "these", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
		"with", "you", "your":
		return true
	}
	return false
}
