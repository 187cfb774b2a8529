package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// sttFixture is the WAV that Chromium's fake microphone plays in a loop: the
// simulator's speech for sttWant (see local/simulator's TestSpeechFixture).
const (
	sttFixture = "../simulator/testdata/speech.wav"
	sttWant    = "hello spass"
)

// TestBrowserSTT runs stt.mjs: /playground/stt records the fake microphone fed
// from sttFixture and must show its transcript, streamed and as one answer.
func TestBrowserSTT(t *testing.T) {
	node := need(t, true, "playwright-core/package.json")
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	wav, err := filepath.Abs(sttFixture)
	if err != nil {
		t.Fatal(err)
	}
	shots, err := filepath.Abs("screenshots")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "stt.mjs")
	cmd.Env = append(os.Environ(), "BASE_URL="+env.URL, "TOKEN="+gatewaytest.UserToken, "CHROMIUM="+chromiumPath,
		"AUDIO_WAV="+wav, "WANT="+sttWant, "SCREENSHOT_DIR="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("stt.mjs:\n%s", out)
	if err != nil || !strings.Contains(string(out), " passed, 0 failed") {
		t.Fatalf("stt.mjs failed (%v); screenshots of the failed steps are in %s", err, shots)
	}
}
