package simulator

import (
	"encoding/json"
	"strings"
)

// maxSchemaDepth stops example generation on recursive schemas.
const maxSchemaDepth = 16

// parseSchema decodes a JSON Schema object.
func parseSchema(raw json.RawMessage) (map[string]any, bool) {
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil || schema == nil {
		return nil, false
	}
	return schema, true
}

func hasProperties(schema map[string]any) bool {
	props, _ := schema["properties"].(map[string]any)
	return len(props) > 0
}

// exampleFor builds a value that validates against schema, covering the
// subset of JSON Schema that structured outputs and tool parameters use in
// practice: types, properties, items, enum, const, $ref into $defs, and the
// anyOf/oneOf/allOf combinators. Strings are "example", numbers 1 (moved
// into any minimum/maximum), booleans true, arrays as short as minItems
// allows.
func exampleFor(schema map[string]any) any {
	return schemaExample{root: schema}.value(schema, 0)
}

type schemaExample struct {
	root map[string]any // for resolving $ref
}

func (e schemaExample) value(v any, depth int) any {
	schema, ok := v.(map[string]any)
	if !ok || depth > maxSchemaDepth {
		return "example" // true, {} and unknown schemas accept anything
	}
	if ref, ok := schema["$ref"].(string); ok {
		return e.value(e.resolve(ref), depth+1)
	}
	if c, ok := schema["const"]; ok {
		return c
	}
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf"} {
		if alts, ok := schema[key].([]any); ok && len(alts) > 0 {
			return e.value(nonNull(alts), depth+1)
		}
	}

	switch schemaType(schema) {
	case "object":
		return e.object(schema, depth)
	case "array":
		n, _ := schema["minItems"].(float64)
		items := make([]any, int(n))
		for i := range items {
			items[i] = e.value(schema["items"], depth+1)
		}
		return items
	case "integer", "number":
		return number(schema)
	case "boolean":
		return true
	case "null":
		return nil
	default:
		return exampleString(schema)
	}
}

// object fills every declared property (a superset of the required ones,
// and still valid) plus any required property that is not declared.
func (e schemaExample) object(schema map[string]any, depth int) map[string]any {
	obj := map[string]any{}
	props, _ := schema["properties"].(map[string]any)
	for name, sub := range props {
		obj[name] = e.value(sub, depth+1)
	}
	required, _ := schema["required"].([]any)
	for _, r := range required {
		if name, ok := r.(string); ok {
			if _, done := obj[name]; !done {
				obj[name] = "example"
			}
		}
	}
	return obj
}

// resolve follows a local JSON pointer such as "#/$defs/Address".
func (e schemaExample) resolve(ref string) any {
	path, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	var node any = e.root
	for _, key := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if key == "" {
			continue
		}
		key = strings.NewReplacer("~1", "/", "~0", "~").Replace(key)
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[key]
	}
	return node
}

// schemaType returns the schema's type, preferring a non-null one when
// several are allowed and inferring it from structure when absent.
func schemaType(schema map[string]any) string {
	switch t := schema["type"].(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok && s != "null" {
				return s
			}
		}
		return "null"
	}
	switch {
	case schema["properties"] != nil:
		return "object"
	case schema["items"] != nil:
		return "array"
	}
	return ""
}

// nonNull picks the first alternative that is not just {"type":"null"}, as
// optional fields are often spelled anyOf [T, null].
func nonNull(alts []any) any {
	for _, alt := range alts {
		if m, ok := alt.(map[string]any); !ok || m["type"] != "null" {
			return alt
		}
	}
	return alts[0]
}

func number(schema map[string]any) float64 {
	n := 1.0
	if lo, ok := schema["minimum"].(float64); ok && n < lo {
		n = lo
	}
	if hi, ok := schema["maximum"].(float64); ok && n > hi {
		n = hi
	}
	return n
}

// exampleString returns "example", or a sample of the common string
// formats that validators check.
func exampleString(schema map[string]any) string {
	switch schema["format"] {
	case "date-time":
		return "2024-01-01T00:00:00Z"
	case "date":
		return "2024-01-01"
	case "email":
		return "user@example.com"
	case "uri", "url":
		return "https://example.com/"
	case "uuid":
		return "00000000-0000-4000-8000-000000000000"
	}
	return "example"
}
