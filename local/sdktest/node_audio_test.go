package sdktest

import (
	"os"
	"path/filepath"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// TestNodeSDKAudio runs node/audio.mjs (the openai npm package's audio and
// moderation calls) against the gateway of audioYAML; it skips or fails as
// TestNodeSDK does without node.
func TestNodeSDKAudio(t *testing.T) { inProcess(t, startAudioGateway, nodeAudio) }

func nodeAudio(t *testing.T, env *gatewaytest.Env) {
	wav := filepath.Join(t.TempDir(), "speech.wav")
	if err := os.WriteFile(wav, simulator.WAV(simulator.Synthesize(audioText, 16000), 16000), 0o600); err != nil {
		t.Fatal(err)
	}
	runNode(t, "audio.mjs", "SPASS_BASE_URL="+env.URL+"/v1", "SPASS_TOKEN="+sdkToken,
		"SPASS_AUDIO_WAV="+wav, "SPASS_AUDIO_TEXT="+audioText)
}
