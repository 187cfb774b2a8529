package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

type tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// functionTools returns the callable function tools, skipping other kinds
// (custom tools, etc.) the simulator does not know how to call.
func functionTools(tools []tool) []tool {
	var fns []tool
	for _, t := range tools {
		if (t.Type == "function" || t.Type == "") && t.Function.Name != "" {
			fns = append(fns, t)
		}
	}
	return fns
}

// toolsEnabled reports whether the model may call tools in this request.
func toolsEnabled(req chatRequest) bool {
	var choice string
	_ = json.Unmarshal(req.ToolChoice, &choice) // an object means a forced tool
	return len(functionTools(req.Tools)) > 0 && choice != "none"
}

// chooseToolCalls decides which tools to call in reply to text, so that a
// test can steer the simulator from the prompt alone: it calls every tool
// whose name the text mentions, in the order tools lists them; failing that,
// the one tool_choice forces (or the first tool when it is "required");
// failing that none: like a real model, it answers in text when no offered
// tool fits the question.
func chooseToolCalls(tools []tool, toolChoice json.RawMessage, text string) []toolCall {
	tools = functionTools(tools)
	var chosen []tool
	for _, t := range tools {
		if strings.Contains(text, t.Function.Name) {
			chosen = append(chosen, t)
		}
	}
	if len(chosen) == 0 {
		chosen = fittingTools(tools, toolChoice, text) // fit.go: asked for, not named
	}
	if len(chosen) == 0 {
		t, ok := forcedTool(tools, toolChoice)
		if !ok {
			return nil
		}
		chosen = []tool{t}
	}

	// A single call takes its arguments verbatim from a JSON object in the
	// prompt when there is one, which lets tests choose them exactly.
	literal, hasLiteral := firstJSONObject(text)
	calls := make([]toolCall, len(chosen))
	for i, t := range chosen {
		args := literal
		if !hasLiteral || len(chosen) > 1 {
			args = argumentsFrom(t.Function.Parameters, text) // args.go
		}
		calls[i] = toolCall{
			ID:       fmt.Sprintf("call_%d", i+1),
			Type:     "function",
			Function: functionCall{Name: t.Function.Name, Arguments: args},
		}
	}
	return calls
}

// forcedTool returns the tool named by a tool_choice of the form
// {"type":"function","function":{"name":...}}, or the first tool for
// "required"; ok is false when tool_choice forces nothing.
func forcedTool(tools []tool, toolChoice json.RawMessage) (tool, bool) {
	var choice string
	if json.Unmarshal(toolChoice, &choice) == nil && choice == "required" {
		return tools[0], true
	}
	var forced struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(toolChoice, &forced) == nil {
		for _, t := range tools {
			if t.Function.Name == forced.Function.Name {
				return t, true
			}
		}
	}
	return tool{}, false
}

// argumentsFor generates call arguments that satisfy a tool's parameters
// schema. A tool without parameters is called with {}.
func argumentsFor(parameters json.RawMessage) string {
	schema, ok := parseSchema(parameters)
	if !ok || !hasProperties(schema) {
		return "{}"
	}
	out, err := json.Marshal(exampleFor(schema))
	if err != nil {
		return "{}"
	}
	return string(out)
}

// firstJSONObject returns, compacted, the first brace-balanced substring of
// text that parses as a JSON object.
func firstJSONObject(text string) (string, bool) {
	for start := strings.IndexByte(text, '{'); start >= 0; {
		if end, ok := balancedEnd(text[start:]); ok {
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(text[start:start+end])) == nil {
				return buf.String(), true
			}
		}
		next := strings.IndexByte(text[start+1:], '{')
		if next < 0 {
			break
		}
		start += 1 + next
	}
	return "", false
}

// balancedEnd returns the length of the brace-balanced prefix of s, which
// starts with '{', ignoring braces inside JSON strings.
func balancedEnd(s string) (int, bool) {
	depth := 0
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}
