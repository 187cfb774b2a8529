package apierr

import (
	"bytes"
	"fmt"
)

// Markdown renders the catalog as docs/errors.md; a test keeps the file equal.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString(`# Error catalog

Every error the gateway returns has a stable ` + "`code`" + `. The body is OpenAI's, so every
OpenAI SDK raises its own error class with the message intact:

` + "```json" + `
{"error": {"message": "…", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}
` + "```" + `

The same catalog is served as JSON at ` + "`GET /errors`" + `. In a stream that already started, an
error arrives as one SSE event ` + "`data: {\"error\": {…}}`" + ` and the stream ends.
This page is generated from ` + "`shared/apierr`" + `; do not edit it by hand.

| code | HTTP | type | message | what to do |
|---|---|---|---|---|
`)
	for _, e := range Catalog() {
		fmt.Fprintf(&b, "| `%s` | %d | `%s` | %s | %s |\n", e.Code, e.Status, e.Type, e.Message, e.Remediation)
	}
	return b.Bytes()
}
