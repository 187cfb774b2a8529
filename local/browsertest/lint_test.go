package browsertest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// TestRedoclyLint lints the /openapi.json a running gateway serves (what clients
// get, generated parts included) with Redocly's CLI and redocly.yaml: the
// recommended-strict ruleset plus extra rules, every finding an error.
func TestRedoclyLint(t *testing.T) {
	node := need(t, false, "@redocly/cli/package.json")
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	resp, err := http.Get(env.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	spec, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json: %d %v", resp.StatusCode, err)
	}
	dir := t.TempDir()
	files := map[string]string{"openapi.json": "", "redocly.yaml": "redocly.yaml", ".redocly.lint-ignore.yaml": "redocly-lint-ignore.yaml"}
	for dst, src := range files {
		b := spec
		if src != "" {
			if b, err = os.ReadFile(src); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, _ := filepath.Abs(filepath.Join("node_modules", "@redocly", "cli", "bin", "cli.js"))
	cmd := exec.CommandContext(ctx, node, cli, "lint", "--config", "redocly.yaml", "--format", "stylish", "openapi.json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("redocly lint:\n%s", out.String())
	if err != nil {
		t.Fatalf("redocly lint failed: %v", err)
	}
	if finding.MatchString(out.String()) || !strings.Contains(out.String(), "Your API description is valid") {
		t.Fatal("redocly lint reported findings")
	}
}

// finding is a line of the stylish format: "  12:3  warning  rule  message".
var finding = regexp.MustCompile(`(?m)^\s+\d+:\d+\s+(error|warning)\s`)

// TestReDocMatchesNPM keeps the vendored ReDoc bundle (shared/docsite/third_party)
// equal to the npm package pinned in package.json; vendor-redoc.sh updates it.
func TestReDocMatchesNPM(t *testing.T) {
	need(t, false, "redoc/package.json")
	want, err := os.ReadFile(filepath.Join("node_modules", "redoc", "bundles", "redoc.standalone.js"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "shared", "docsite", "third_party", "redoc", "redoc.standalone.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("shared/docsite/third_party/redoc differs from the npm package: run local/browsertest/vendor-redoc.sh")
	}
}
