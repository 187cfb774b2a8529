package simulator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The simulator moderates by a word list, the same for its /v1/moderations and
// for the Llama Guard style verdicts of its chat models named *guard*, so a test
// knows which inputs are flagged: a word of the list flags its categories.
var moderationWords = map[string][]string{
	"kill":    {"violence"},
	"murder":  {"violence"},
	"attack":  {"violence"},
	"bomb":    {"violence", "illicit/violent"},
	"weapon":  {"illicit/violent"},
	"steal":   {"illicit"},
	"hate":    {"hate"},
	"idiot":   {"harassment"},
	"suicide": {"self-harm"},
	"nude":    {"sexual"},
}

// ModerationCategories are OpenAI's moderation categories, in its order.
var ModerationCategories = []string{"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
	"illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors",
	"violence", "violence/graphic"}

// guardCodes are the Llama Guard 3 hazard codes of the categories.
var guardCodes = map[string]string{
	"violence": "S1", "illicit": "S2", "illicit/violent": "S9", "hate": "S10", "self-harm": "S11",
	"sexual": "S12", "harassment": "S10",
}

// ModerationFlags returns the categories text falls in, in ModerationCategories order.
func ModerationFlags(text string) []string {
	hit := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, c := range moderationWords[strings.TrimSuffix(w, "s")] {
			hit[c] = true
		}
	}
	var out []string
	for _, c := range ModerationCategories {
		if hit[c] {
			out = append(out, c)
		}
	}
	return out
}

// GuardVerdict is what a Llama Guard model answers about text: "safe", or
// "unsafe" and a line of its hazard codes.
func GuardVerdict(text string) string {
	var codes []string
	for _, c := range ModerationFlags(text) {
		if code := guardCodes[c]; !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		return "safe"
	}
	slices.SortFunc(codes, func(a, b string) int { return hazardNumber(a) - hazardNumber(b) })
	return "unsafe\n" + strings.Join(codes, ",")
}

// isGuard reports whether model answers as a Llama Guard classifier.
func isGuard(model string) bool { return strings.Contains(strings.ToLower(model), "guard") }

// handleModerations implements POST /v1/moderations for a string, an array of
// strings, or an array of {type: text, text} parts; any model name is accepted.
func (s *Server) handleModerations(x *exchange) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	inputs, err := moderationInputs(req.Input)
	if err != nil {
		x.fail(errInvalidParam("input", "%v", err))
		return
	}
	results := make([]map[string]any, len(inputs))
	for i, text := range inputs {
		flags := ModerationFlags(text)
		cats, scores := map[string]bool{}, map[string]float64{}
		for _, c := range ModerationCategories {
			cats[c] = slices.Contains(flags, c)
			scores[c] = 0.0001
			if cats[c] {
				scores[c] = 0.97
			}
		}
		results[i] = map[string]any{"flagged": len(flags) > 0, "categories": cats, "category_scores": scores}
	}
	x.respond(map[string]any{"id": fmt.Sprintf("modr-sim%08d", x.seq), "model": cmpOr(req.Model, "omni-moderation-latest"), "results": results})
}

// moderationInputs reads input: a string, strings, or text parts.
func moderationInputs(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
		return nil, fmt.Errorf("input must be a string or a non-empty array")
	}
	var out []string
	for _, m := range many {
		var part struct{ Type, Text string }
		switch {
		case json.Unmarshal(m, &one) == nil:
			out = append(out, one)
		case json.Unmarshal(m, &part) == nil && part.Type == "text":
			out = append(out, part.Text)
		case json.Unmarshal(m, &part) == nil && part.Type == "image_url":
			// Images carry nothing the word list reads.
		default:
			return nil, fmt.Errorf("input items must be strings or {type: text, text} parts")
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out, nil
}

// hazardNumber is n of "Sn", so codes sort as Llama Guard lists them.
func hazardNumber(code string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(code, "S"))
	return n
}
