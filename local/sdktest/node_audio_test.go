package sdktest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/local/simulator"
)

// TestNodeSDKAudio runs node/audio.mjs (the openai npm package's audio and
// moderation calls) against the gateway of audioYAML; it skips or fails as
// TestNodeSDK does without node.
func TestNodeSDKAudio(t *testing.T) {
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
			t.Fatalf("%s/node_modules/openai is missing (%v)", nodeDir, err)
		}
		t.Skipf("%s/node_modules/openai is missing; run `make node-deps` to run the Node SDK test", nodeDir)
	}
	env := startAudioGateway(t)
	wav := filepath.Join(t.TempDir(), "speech.wav")
	if err := os.WriteFile(wav, simulator.WAV(simulator.Synthesize(audioText, 16000), 16000), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "audio.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "SPASS_BASE_URL="+env.URL+"/v1", "SPASS_TOKEN="+sdkToken,
		"SPASS_AUDIO_WAV="+wav, "SPASS_AUDIO_TEXT="+audioText, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "passed, 0 failed") {
		t.Fatalf("node audio.mjs: %v; output:\n%s", err, out)
	}
	t.Logf("node audio.mjs output:\n%s", out)
}
