package openaispec

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// toJSON converts a value decoded by yaml.v3 into a JSON-compatible value:
// maps with string keys, []any, string, bool, nil, float64 / int types.
func toJSON(v any, at string) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, int, int64, uint64:
		return v, nil
	case int8, int16, int32, uint, uint8, uint16, uint32:
		return v, nil
	case float32:
		return toJSON(float64(v), at)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			// .nan / .inf have no JSON form; keep them as text.
			return strconv.FormatFloat(v, 'g', -1, 64), nil
		}
		return v, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case []byte: // !!binary
		return base64.StdEncoding.EncodeToString(v), nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := toJSON(e, at+"/"+k)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			var ks string
			switch k := k.(type) {
			case string:
				ks = k
			case nil:
				ks = "null"
			default:
				kj, err := toJSON(k, at)
				if err != nil {
					return nil, err
				}
				if _, scalar := kj.(string); !scalar {
					ks = fmt.Sprint(kj)
				} else {
					ks = kj.(string)
				}
			}
			c, err := toJSON(e, at+"/"+ks)
			if err != nil {
				return nil, err
			}
			out[ks] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := toJSON(e, at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unsupported YAML value of type %T at %s", v, displayPath(at))
	}
}

// Keywords whose values are data, not schemas: never rewritten.
var dataKeywords = map[string]bool{
	"example": true, "examples": true, "default": true, "enum": true, "const": true,
}

// Keywords whose values are maps from names to schemas (the map itself is not
// a schema).
var schemaMapKeywords = map[string]bool{
	"properties": true, "patternProperties": true, "$defs": true,
	"definitions": true, "dependentSchemas": true,
}

// rewriteOpenAPI walks the document and turns what is not plain JSON Schema
// 2020-12 into 2020-12: the OpenAPI 3.0 keyword `nullable` (see nullable), the
// OpenAPI 3.0 boolean exclusiveMinimum/exclusiveMaximum (see exclusiveBound),
// repeated names in `required` (see dedupe) and
// the 2019-09 recursion keywords, which the document uses for CompoundFilter:
// `$recursiveAnchor: true` is dropped and `$recursiveRef: "#"` becomes a $ref
// to the enclosing component (self, its pointer) - what it means there.
// isMap tells that v is a name->schema map rather than a schema. Already
// rewritten schemas are left alone (nullable is deleted on rewrite and
// $recursiveRef replaced), so a second pass is harmless.
func rewriteOpenAPI(v any, isMap bool, self string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !isMap && (dataKeywords[k] || strings.HasPrefix(k, "x-")) {
				continue
			}
			v[k] = rewriteOpenAPI(e, !isMap && schemaMapKeywords[k], self)
		}
		if isMap {
			return v
		}
		if _, ok := v["$recursiveAnchor"].(bool); ok {
			delete(v, "$recursiveAnchor")
		}
		if ref, ok := v["$recursiveRef"].(string); ok {
			delete(v, "$recursiveRef")
			if ref == "#" && self != "" {
				ref = self
			}
			if _, has := v["$ref"]; !has {
				v["$ref"] = ref
			}
		}
		if req, ok := v["required"].([]any); ok {
			v["required"] = dedupe(req)
		}
		exclusiveBound(v, "exclusiveMinimum", "minimum")
		exclusiveBound(v, "exclusiveMaximum", "maximum")
		return nullable(v)
	case []any:
		for i, e := range v {
			v[i] = rewriteOpenAPI(e, false, self)
		}
		return v
	}
	return v
}

// dedupe drops repeated entries of a `required` list (the document lists
// some property twice, which 2020-12 forbids; the meaning is unchanged).
func dedupe(list []any) []any {
	seen := map[any]bool{}
	out := list[:0]
	for _, e := range list {
		if s, ok := e.(string); ok {
			if seen[s] {
				continue
			}
			seen[s] = true
		}
		out = append(out, e)
	}
	return out
}

// exclusiveBound turns the OpenAPI 3.0 boolean form
// {minimum: m, exclusiveMinimum: true} into the 2020-12 form
// {exclusiveMinimum: m} (likewise for maximum).
func exclusiveBound(s map[string]any, excl, bound string) {
	b, ok := s[excl].(bool)
	if !ok {
		return
	}
	delete(s, excl)
	if m, has := s[bound]; b && has {
		delete(s, bound)
		s[excl] = m
	}
}

// nullable rewrites a schema carrying `nullable: true` so that it also
// accepts null:
//   - type: X        -> type: [X, "null"]   (and null added to an enum)
//   - anyOf / oneOf  -> a {type: "null"} alternative appended
//   - $ref / allOf / not (which cannot be widened in place)
//     -> {anyOf: [<schema without nullable>, {type: "null"}]}
//
// `nullable: false` is simply dropped.
func nullable(s map[string]any) any {
	n, ok := s["nullable"].(bool)
	if !ok {
		return s
	}
	delete(s, "nullable")
	if !n {
		return s
	}
	_, hasRef := s["$ref"]
	_, hasAllOf := s["allOf"]
	_, hasNot := s["not"]
	if hasRef || hasAllOf || hasNot {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	switch t := s["type"].(type) {
	case string:
		if t != "null" {
			s["type"] = []any{t, "null"}
		}
	case []any:
		if !containsValue(t, "null") {
			s["type"] = append(t, "null")
		}
	}
	if e, ok := s["enum"].([]any); ok && !containsValue(e, nil) {
		s["enum"] = append(e, nil)
	}
	if c, ok := s["const"]; ok && c != nil {
		delete(s, "const")
		s["enum"] = []any{c, nil}
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := s[k].([]any); ok && !hasNullAlternative(alts) {
			s[k] = append(alts, map[string]any{"type": "null"})
		}
	}
	return s
}

func containsValue(list []any, v any) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// hasNullAlternative reports whether one of the alternatives visibly accepts
// null already (type "null", a type list with "null", or null in an enum), so
// that appending another null alternative would make oneOf ambiguous.
func hasNullAlternative(alts []any) bool {
	for _, a := range alts {
		m, ok := a.(map[string]any)
		if !ok {
			continue
		}
		switch t := m["type"].(type) {
		case string:
			if t == "null" {
				return true
			}
		case []any:
			if containsValue(t, "null") {
				return true
			}
		}
		if e, ok := m["enum"].([]any); ok && containsValue(e, nil) {
			return true
		}
	}
	return false
}
