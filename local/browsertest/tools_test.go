// Package browsertest drives the developer portal in headless Chromium and lints the
// OpenAPI document with Redocly's CLI. The package has only tests; setup.sh installs
// Chromium and the locked npm packages they need.
package browsertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// chromiumPath is Debian's chromium, which setup.sh installs (playwright-core
// downloads no browser of its own).
const chromiumPath = "/usr/bin/chromium"

// need returns the path of node, after checking that the named files under
// node_modules (and Chromium, when browser is set) are installed. In CI (CI=true) a
// missing piece fails the test, since .ci/run runs setup.sh first; locally the test
// is skipped with a hint.
func need(t *testing.T, browser bool, modules ...string) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; .ci/run must run local/browsertest/setup.sh first", what)
		}
		t.Skipf("%s is missing: run local/browsertest/setup.sh (installs chromium and the npm packages)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node")
	}
	if browser {
		if _, err := os.Stat(chromiumPath); err != nil {
			missing(chromiumPath)
		}
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join("node_modules", m)); err != nil {
			missing("node_modules/" + m)
		}
	}
	return node
}
