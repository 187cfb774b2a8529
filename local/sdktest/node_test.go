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
// against a gateway of setupYAML.
func TestNodeSDK(t *testing.T) { inProcess(t, startGateway, nodeSDK) }

func nodeSDK(t *testing.T, env *gatewaytest.Env) {
	runNode(t, "sdk.mjs",
		"SPASS_BASE_URL="+env.URL+"/v1",
		"SPASS_TOKEN="+sdkToken,
		"SPASS_MODEL_429="+model429,
		"SPASS_MODEL_5XX="+model5xx,
		"SPASS_MODEL_HALF="+modelHalf,
		"SPASS_STYLE_MODELS="+styleModels(),
	)
}

// runNode runs a driver script of nodeDir with env added and fails unless it ends
// with its "N passed, 0 failed" line. In CI (CI=true) a missing node or missing
// node_modules is a failure, because `make test` installs them first; locally the
// test is skipped with a hint instead.
func runNode(t *testing.T, script string, env ...string) {
	t.Helper()
	inCI := os.Getenv("CI") == "true"
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		if inCI {
			t.Fatalf("node is not on PATH, but CI must run the Node SDK tests: %v", err)
		}
		t.Skip("node is not on PATH; install Node 20+ and run `make node-deps` to run the Node SDK tests")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openai", "package.json")); err != nil {
		if inCI {
			t.Fatalf("%s/node_modules/openai is missing (%v); `make test` runs `make node-deps` (npm ci) first", nodeDir, err)
		}
		t.Skipf("%s/node_modules/openai is missing; run `make node-deps` to run the Node SDK tests", nodeDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, script)
	cmd.Dir = nodeDir
	cmd.Env = append(append(os.Environ(), env...), "NO_COLOR=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node %s took %v", script, time.Since(start).Round(time.Millisecond))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("node %s timed out; output:\n%s", script, out)
		}
		t.Fatalf("node %s: %v; output:\n%s", script, err, out)
	}
	if !strings.Contains(string(out), "passed, 0 failed") {
		t.Fatalf("node %s output lacks the closing \"N passed, 0 failed\" line:\n%s", script, out)
	}
	t.Logf("node %s output:\n%s", script, out)
}
