package gatewaytest

import (
	"strings"

	"spass/local/simulator"
	"spass/shared/backend"
)

// StyleModel is the model Styles serves for a tool style: "style-" and the
// style's name ("style-openai" for OpenAI's own).
func StyleModel(st simulator.ToolStyle) string {
	if st == simulator.StyleOpenAI {
		return "style-openai"
	}
	return "style-" + string(st)
}

// StyleFormat is the tool_call_format a backend writing st declares: the text
// form of a text style, none otherwise.
func StyleFormat(st simulator.ToolStyle) backend.ToolCallFormat {
	switch st {
	case simulator.StyleHermes:
		return backend.ToolCallsHermes
	case simulator.StyleMistral:
		return backend.ToolCallsMistral
	case simulator.StyleLlamaJSON:
		return backend.ToolCallsLlamaJSON
	}
	return backend.ToolCallsNone
}

// Styles describes one simulator per tool style of the simulator, each the only
// backend of the model StyleModel(style) (the simulator's sim-chat upstream),
// and declaring StyleFormat(style) as its tool_call_format. Add its Sims and
// SimStyles to a Setup, and its backends and models (YAML list items) to the
// Setup's backends: and models: lists.
type Styles struct {
	Sims             []string
	SimStyles        map[string]simulator.ToolStyle
	Backends, Models string
}

// ToolStyles returns the Styles of every tool style.
func ToolStyles() Styles {
	s := Styles{SimStyles: map[string]simulator.ToolStyle{}}
	var b, m strings.Builder
	for _, st := range simulator.ToolStyles() {
		name := StyleModel(st)
		s.Sims = append(s.Sims, name)
		s.SimStyles[name] = st
		b.WriteString("  - {name: " + name + ", kind: simulator, base_url: \"{{" + name + "}}\", tool_call_format: " + string(StyleFormat(st)) + "}\n")
		m.WriteString("  - {id: " + name + ", chain: [{backend: " + name + ", model: sim-chat}]}\n")
	}
	s.Backends, s.Models = b.String(), m.String()
	return s
}
