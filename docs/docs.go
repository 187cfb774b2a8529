// Package docs holds the gateway's documentation: the markdown pages in this
// directory, served as a site at /docs, and their navigation (nav.yaml). It exists so
// the pages can be embedded in the binary: go:embed cannot reach a parent directory.
// Their code blocks are highlighted at build time (shared/docsite's highlights.json):
// after changing one, run go test ./shared/docsite -run TestHighlights -update.
package docs

import (
	"embed"
	"io/fs"
)

//go:embed *.md nav.yaml
var files embed.FS

// Files returns the markdown pages and nav.yaml.
func Files() fs.FS { return files }
