package sdktest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// audioYAML serves the simulator's audio, moderation and rerank models, and a
// Llama Guard style chat model ("llama-guard") on a kind without a moderation
// route, which acme's moderation.model names.
const audioYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
  - {name: guard, kind: vllm, base_url: "{{sim}}"}
  - {name: plain, kind: tgi, base_url: "{{sim}}"}
models:
  - {id: sim-chat, chain: [{backend: sim}]}
  - {id: sim-whisper, type: transcription, chain: [{backend: sim}]}
  - {id: sim-tts, type: speech, chain: [{backend: sim}]}
  - {id: sim-moderation, type: moderation, chain: [{backend: sim}]}
  - {id: llama-guard, chain: [{backend: guard, model: sim-guard}]}
  - {id: sim-chat-tgi, chain: [{backend: plain, model: sim-chat}]}
`

// audioText is what the WAV fixture says in the simulator's tone code.
const audioText = "hello from the sdk"

func startAudioGateway(t *testing.T, start starter) *gatewaytest.Env {
	t.Helper()
	return start(t, gatewaytest.Setup{Sims: []string{"sim"}, YAML: audioYAML,
		AcmeDefaults: "{moderation.model: llama-guard}",
		SimOptions:   simulator.Options{Models: []string{"sim-chat", "sim-guard"}}})
}

func TestGoSDKAudioAndModerations(t *testing.T) { inProcess(t, startAudioGateway, goSDKAudio) }

func goSDKAudio(t *testing.T, env *gatewaytest.Env) {
	client := newClient(env.URL, sdkToken)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wav := simulator.WAV(simulator.Synthesize(audioText, 16000), 16000)

	t.Run("audio.transcriptions.create", func(t *testing.T) {
		res, err := client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
			File:  openai.File(bytes.NewReader(wav), "speech.wav", "audio/wav"),
			Model: "sim-whisper",
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != audioText {
			t.Fatalf("text %q, want %q", res.Text, audioText)
		}
	})

	t.Run("audio.transcriptions.create streamed", func(t *testing.T) {
		stream := client.Audio.Transcriptions.NewStreaming(ctx, openai.AudioTranscriptionNewParams{
			File:  openai.File(bytes.NewReader(wav), "speech.wav", "audio/wav"),
			Model: "sim-whisper",
		})
		defer stream.Close()
		var deltas []string
		var done string
		for stream.Next() {
			switch ev := stream.Current(); ev.Type {
			case "transcript.text.delta":
				deltas = append(deltas, ev.Delta)
			case "transcript.text.done":
				done = ev.Text
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if len(deltas) != 4 || strings.Join(deltas, "") != audioText || done != audioText {
			t.Fatalf("deltas %q, done %q", deltas, done)
		}
	})

	t.Run("audio.speech.create", func(t *testing.T) {
		resp, err := client.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{
			Input:          "Speech through the SDK",
			Model:          "sim-tts",
			Voice:          openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")},
			ResponseFormat: openai.AudioSpeechNewParamsResponseFormatWAV,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		audio, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		samples, rate, err := simulator.ReadWAV(audio)
		if err != nil {
			t.Fatalf("not a WAV (%s): %v", resp.Header.Get("Content-Type"), err)
		}
		if said, _ := simulator.Decode(samples, rate); said != "speech through the sdk" {
			t.Fatalf("the speech says %q", said)
		}
	})

	t.Run("moderations.create", func(t *testing.T) {
		// The backend's own moderation route.
		res, err := client.Moderations.New(ctx, openai.ModerationNewParams{
			Model: "sim-moderation",
			Input: openai.ModerationNewParamsInputUnion{OfStringArray: []string{"I will kill them", "What a nice day"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Results) != 2 || !res.Results[0].Flagged || !res.Results[0].Categories.Violence || res.Results[1].Flagged {
			t.Fatalf("results %+v", res.Results)
		}
		// No model: the tenant's moderation.model, a Llama Guard style chat model.
		res, err = client.Moderations.New(ctx, openai.ModerationNewParams{
			Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("I hate you")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Model != "llama-guard" || len(res.Results) != 1 || !res.Results[0].Flagged || !res.Results[0].Categories.Hate || res.Results[0].Categories.Violence {
			t.Fatalf("model %s, results %+v", res.Model, res.Results)
		}
	})
}
