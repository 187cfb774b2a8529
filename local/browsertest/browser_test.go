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
	"spass/local/simulator"
)

// researcherYAML is the file agent the playground's agent mode talks to.
const researcherYAML = `name: researcher
description: Answers with sources, uses the calculator
model: sim-chat
system_prompt: You answer with sources.
tools: [calculator, datetime]
max_rounds: 4
`

// TestBrowser runs browser.mjs against a gateway whose simulator takes 30 ms per
// token, so a streamed answer arrives in many visible chunks, with one file agent.
// Screenshots of failed steps land in screenshots/ (git-ignored).
func TestBrowser(t *testing.T) {
	node := need(t, true, "playwright-core/package.json")
	agents := t.TempDir()
	if err := os.WriteFile(filepath.Join(agents, "researcher.yaml"), []byte(researcherYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	env := gatewaytest.Start(t, gatewaytest.Setup{SimOptions: simulator.Options{TokenDelay: 30 * time.Millisecond},
		Env: map[string]string{"SPASS_AGENTS_DIR": agents}})
	shots, err := filepath.Abs("screenshots")
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(shots) // only this run's screenshots
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "browser.mjs")
	cmd.Env = append(os.Environ(),
		"BASE_URL="+env.URL,
		"TOKEN="+gatewaytest.UserToken,
		"CHROMIUM="+chromiumPath,
		"SCREENSHOT_DIR="+shots,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser.mjs failed (%v); screenshots of the failed steps are in %s", err, shots)
	}
	if !strings.Contains(string(out), " passed, 0 failed") {
		t.Fatal("browser.mjs did not report its result")
	}
}
