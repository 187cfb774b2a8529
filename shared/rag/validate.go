package rag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"spass/shared/apierr"
	"spass/shared/ragdoc"
)

var (
	// indexName and documentID are path segments: no slash, no space, no colon
	// (a chunk id is "<document>:<seq>").
	indexName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	documentID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	metadataKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// invalid is the catalog error for a bad parameter.
func invalid(param, format string, args ...any) *apierr.Error {
	return apierr.P(apierr.InvalidRequest, param, fmt.Sprintf(format, args...))
}

func checkIndexName(name string) error {
	if !indexName.MatchString(name) {
		return invalid("name", "An index name is 1-64 letters, digits, _ . or -, starting with a letter or digit.")
	}
	return nil
}

func checkDocumentID(id string) error {
	if !documentID.MatchString(id) {
		return invalid("id", "A document id is 1-128 letters, digits, _ . or -, starting with a letter or digit.")
	}
	return nil
}

// contentType reads a document's content_type: text/plain (the default),
// text/markdown or text/html, parameters such as charset ignored (content is
// JSON text, so UTF-8 already).
func contentType(s string) (string, error) {
	if s == "" {
		return ragdoc.TypeText, nil
	}
	mt, _, err := mime.ParseMediaType(s)
	switch {
	case err != nil:
	case mt == ragdoc.TypeText, mt == ragdoc.TypeHTML:
		return mt, nil
	case mt == ragdoc.TypeMarkdown, mt == "text/x-markdown":
		return ragdoc.TypeMarkdown, nil
	}
	return "", invalid("content_type", "content_type must be text/plain, text/markdown or text/html.")
}

// checkContent checks a document's size and text.
func checkContent(content string) error {
	if len(content) > MaxDocumentBytes {
		return apierr.P(apierr.RAGDocumentTooLarge, "content", fmt.Sprintf("The content has %d bytes; a document may have at most %d.", len(content), MaxDocumentBytes))
	}
	if strings.TrimSpace(content) == "" {
		return invalid("content", "content must not be empty.")
	}
	if !utf8.ValidString(content) {
		return invalid("content", "content must be valid UTF-8.")
	}
	return nil
}

func checkTitle(title string) error {
	if len(title) > MaxTitle || !utf8.ValidString(title) {
		return invalid("title", "title must be valid UTF-8 of at most %d bytes.", MaxTitle)
	}
	return nil
}

// metadata checks a document's metadata — an object of at most MaxMetadataKeys
// keys whose values are strings, numbers or booleans — and returns it compact
// with sorted keys, as stored.
func metadata(raw json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return "{}", nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", invalid("metadata", "metadata must be a JSON object.")
	}
	if len(m) > MaxMetadataKeys {
		return "", invalid("metadata", "metadata may have at most %d keys.", MaxMetadataKeys)
	}
	for k, v := range m {
		if !metadataKey.MatchString(k) {
			return "", invalid("metadata", "A metadata key is 1-64 letters, digits, _ or -.")
		}
		if !scalar(v) {
			return "", invalid("metadata", "Metadata values are strings of at most %d bytes, numbers or booleans.", MaxMetadataValue)
		}
	}
	b, _ := json.Marshal(m) // sorted keys
	return string(b), nil
}

func scalar(v any) bool {
	switch x := v.(type) {
	case string:
		return len(x) <= MaxMetadataValue
	case float64, bool:
		return true
	}
	return false
}

// filter reads a query's filter: metadata key -> a value or a list of values, a
// document passing when each key has one of its values.
func filter(raw json.RawMessage) (ragdoc.Filter, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, invalid("filter", "filter must be an object of metadata key -> value or list of values.")
	}
	if len(m) > MaxMetadataKeys {
		return nil, invalid("filter", "filter may name at most %d keys.", MaxMetadataKeys)
	}
	f := ragdoc.Filter{}
	for k, v := range m {
		if !metadataKey.MatchString(k) {
			return nil, invalid("filter", "A metadata key is 1-64 letters, digits, _ or -.")
		}
		vals, isList := v.([]any)
		if !isList {
			vals = []any{v}
		}
		if len(vals) == 0 || len(vals) > 64 {
			return nil, invalid("filter", "A filter key needs 1-64 values.")
		}
		for _, x := range vals {
			if !scalar(x) {
				return nil, invalid("filter", "Filter values are strings, numbers or booleans.")
			}
		}
		f[k] = vals
	}
	return f, nil
}
