package sdktest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeSDKResponses runs node/responses.mjs (the openai npm package's
// client.responses) against the gateway of responsesYAML. Node and node_modules
// are needed as for TestNodeSDK: missing, the test fails in CI and skips locally.
func TestNodeSDKResponses(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(nodeDir, "node_modules", "openai", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Node SDK test needs node and %s/node_modules (make node-deps): %v", nodeDir, err)
		}
		t.Skipf("node or %s/node_modules is missing (%v); run `make node-deps` to run the Node SDK test", nodeDir, err)
	}
	env := startResponsesGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "responses.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "SPASS_BASE_URL="+env.URL+"/v1", "SPASS_TOKEN="+sdkToken,
		"SPASS_MODEL_CHAT=sim-chat", "SPASS_MODEL_NATIVE=native-chat", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "passed, 0 failed") {
		t.Fatalf("node responses.mjs: %v; output:\n%s", err, out)
	}
	t.Logf("node responses.mjs output:\n%s", out)
}
