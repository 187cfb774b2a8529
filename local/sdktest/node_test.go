package sdktest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// styleModels lists the models of every tool style, comma-separated.
func styleModels() string {
	var ms []string
	for _, st := range simulator.ToolStyles() {
		ms = append(ms, gatewaytest.StyleModel(st))
	}
	return strings.Join(ms, ",")
}

// nodeDir holds the Node SDK driver and its locked dependencies.
const nodeDir = "node"

// TestNodeSDK runs node/sdk.mjs, which drives the official openai npm package,
// against a gateway of setupYAML. In CI (CI=true) a missing node or missing
// node_modules is a failure, because `make test` installs them first; locally
// the test is skipped with a hint instead.
func TestNodeSDK(t *testing.T) {
	inCI := os.Getenv("CI") == "true"
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		if inCI {
			t.Fatalf("node is not on PATH, but CI must run the Node SDK test: %v", err)
		}
		t.Skip("node is not on PATH; install Node 20+ and run `make node-deps` to run the Node SDK test")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openai", "package.json")); err != nil {
		if inCI {
			t.Fatalf("%s/node_modules/openai is missing (%v); `make test` runs `make node-deps` (npm ci) first", nodeDir, err)
		}
		t.Skipf("%s/node_modules/openai is missing; run `make node-deps` to run the Node SDK test", nodeDir)
	}

	env := startGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "sdk.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"SPASS_BASE_URL="+env.URL+"/v1",
		"SPASS_TOKEN="+sdkToken,
		"SPASS_MODEL_429="+model429,
		"SPASS_MODEL_5XX="+model5xx,
		"SPASS_MODEL_HALF="+modelHalf,
		"SPASS_STYLE_MODELS="+styleModels(),
		"NO_COLOR=1",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node sdk.mjs took %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("node sdk.mjs timed out; output:\n%s", out)
		}
		t.Fatalf("node sdk.mjs: %v; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "passed, 0 failed") {
		t.Fatalf("node sdk.mjs output lacks the closing \"N passed, 0 failed\" line:\n%s", out)
	}
	t.Logf("node sdk.mjs output:\n%s", out)
}
