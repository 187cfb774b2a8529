package docs_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// nodeModules is where the openai npm package is installed (pinned, `make node-deps`).
const nodeModules = "../local/sdktest/node/node_modules"

// onePixelPNG is the photo.png the image examples read.
const onePixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

// TestDocsNodeExamples runs every ```js block of the documentation with the openai
// npm package against a gateway that answers as `make run` does, each after the
// client of examples.md's "Setting up an SDK" block, and after the page's earlier
// curl blocks (the state a reader built). A block must exit 0 and print no
// "undefined": an example that reads a field the SDK does not have fails.
// ```js norun skips a block. In CI a missing node or package fails the test.
func TestDocsNodeExamples(t *testing.T) {
	node := needNode(t)
	all := pageBlocks(t)
	setup := ""
	for _, b := range all {
		if b.file == "examples.md" && isJS(b) && strings.Contains(b.body, "new OpenAI(") {
			setup = b.body
			break
		}
	}
	if setup == "" {
		t.Fatal("examples.md has no SDK setup block (new OpenAI(...))")
	}
	env := startDocsGateway(t)
	dir := t.TempDir()
	modules, err := filepath.Abs(nodeModules)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	png, _ := base64.StdEncoding.DecodeString(onePixelPNG)
	os.WriteFile(filepath.Join(dir, "photo.png"), png, 0o644)

	pages := map[string]bool{}
	for _, b := range all {
		if isJS(b) && !slices.Contains(b.markers, "norun") && b.body != setup {
			pages[b.file] = true
		}
	}
	ran := 0
	states := t.TempDir()
	for _, b := range all {
		if !pages[b.file] {
			continue
		}
		switch {
		case (b.lang == "sh" || b.lang == "bash") && strings.Contains(b.body, "curl ") && !slices.Contains(b.markers, "norun"):
			// The page's state as its reader has it: run its curl blocks in order.
			cmd := exec.Command("bash", "-c", prelude+strings.ReplaceAll(b.body, docsHost, env.URL)+epilogue)
			cmd.Env = append(os.Environ(), "TOKEN="+gatewaytest.AdminToken, "OUT="+t.TempDir(),
				"STATE="+filepath.Join(states, strings.TrimSuffix(b.file, ".md")+".sh"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s:%d: %v\n%s", b.file, b.line, err, out)
			}
		case isJS(b) && !slices.Contains(b.markers, "norun") && b.body != setup:
			ran++
			t.Run(fmt.Sprintf("%s:%d", b.file, b.line), func(t *testing.T) {
				path := filepath.Join(dir, fmt.Sprintf("example-%d.mjs", ran))
				src := strings.ReplaceAll(module(setup, b.body), docsHost, env.URL)
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, node, path)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "TOKEN="+gatewaytest.AdminToken, "NO_COLOR=1")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("node: %v\n%s\nmodule:\n%s", err, out, src)
				}
				if strings.Contains(string(out), "undefined") {
					t.Fatalf("the example printed undefined (it reads something the SDK does not give):\n%s\nmodule:\n%s", out, src)
				}
			})
		}
	}
	if ran < 5 {
		t.Fatalf("ran only %d Node examples; did the fence syntax change?", ran)
	}
}

func isJS(b block) bool { return b.lang == "js" || b.lang == "javascript" || b.lang == "mjs" }

// module is the setup block and an example as one ES module: the imports of both
// first, each once.
func module(setup, example string) string {
	var imports, body []string
	seen := map[string]bool{}
	for _, src := range []string{setup, example} {
		for _, line := range strings.Split(src, "\n") {
			if strings.HasPrefix(line, "import ") {
				if !seen[line] {
					seen[line] = true
					imports = append(imports, line)
				}
				continue
			}
			body = append(body, line)
		}
	}
	return strings.Join(imports, "\n") + "\n" + strings.Join(body, "\n") + "\n"
}

// needNode returns node when the openai package is installed; it skips (fails in CI)
// otherwise.
func needNode(t *testing.T) string {
	t.Helper()
	missing := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (%v); `make test` installs it (make node-deps)", what, err)
		}
		t.Skipf("%s: run `make node-deps` to run the docs' Node examples", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH", err)
	}
	if _, err := os.Stat(filepath.Join(nodeModules, "openai", "package.json")); err != nil {
		missing(nodeModules+"/openai is missing", errors.Unwrap(err))
	}
	return node
}
