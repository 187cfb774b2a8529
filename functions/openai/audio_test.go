package openai_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// audioYAML serves the simulator's audio, moderation and rerank models, a chat
// model on a kind without those routes (tgi), a Llama Guard model on a kind
// without a moderation route (vllm), and a rerank model on TEI ({{tei}}).
const audioYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
  - {name: plain, kind: tgi, base_url: "{{sim}}"}
  - {name: guard, kind: vllm, base_url: "{{sim}}"}
  - {name: tei, kind: tei, base_url: "{{tei}}"}
models:
  - {id: sim-chat, chain: [{backend: sim}]}
  - {id: sim-whisper, type: transcription, chain: [{backend: sim}]}
  - {id: sim-tts, type: speech, chain: [{backend: sim}]}
  - {id: sim-moderation, type: moderation, chain: [{backend: sim}]}
  - {id: sim-rerank, type: rerank, chain: [{backend: sim}]}
  - {id: tgi-chat, chain: [{backend: plain, model: sim-chat}]}
  - {id: llama-guard, chain: [{backend: guard, model: sim-guard}]}
  - {id: tei-rerank, type: rerank, chain: [{backend: tei}]}
`

// startAudio runs the gateway of audioYAML; tei answers TEI's /rerank with the
// documents' scores in reverse order of their length.
func startAudio(t *testing.T, acme string) *gatewaytest.Env {
	tei := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query string
			Texts []string
		}
		if r.URL.Path != "/rerank" || json.NewDecoder(r.Body).Decode(&req) != nil || req.Query == "" {
			http.Error(w, `{"error":"bad"}`, 422)
			return
		}
		var out []map[string]any
		for i, s := range req.Texts {
			out = append(out, map[string]any{"index": i, "score": 1 / float64(1+len(s))})
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(tei.Close)
	return gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim"}, AcmeDefaults: acme,
		SimOptions: simulator.Options{Models: []string{"sim-chat", "sim-guard"}},
		YAML:       strings.ReplaceAll(audioYAML, "{{tei}}", tei.URL)})
}

// uploadAudio builds a transcription request of fields and the file.
func uploadAudio(t *testing.T, env *gatewaytest.Env, fields map[string]string, file []byte) *http.Request {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", "speech.wav")
	fw.Write(file)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req := env.Request(t, "POST", "/v1/audio/transcriptions", "")
	req.Body, req.ContentLength = io.NopCloser(&b), int64(b.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

func speechWAV(text string) []byte {
	return simulator.WAV(simulator.Synthesize(text, 16000), 16000)
}

func TestTranscriptionFormats(t *testing.T) {
	env := startAudio(t, "")
	wav := speechWAV("the quick fox")
	tests := []struct{ format, ctype, want string }{
		{"json", "application/json", `"text":"the quick fox"`},
		{"text", "text/plain", "the quick fox\n"},
		{"srt", "text/plain", "1\n00:00:00,160 --> "},
		{"vtt", "text/plain", "WEBVTT\n"},
		{"verbose_json", "application/json", `"segments":[{`},
	}
	for _, tt := range tests {
		resp := gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "sim-whisper", "response_format": tt.format}, wav))
		body := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s %q", tt.format, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp.Header.Get("SPASS-Backend") != "sim" || resp.Header.Get("SPASS-Tier") != "T1" {
			t.Errorf("%s: served-by headers %v", tt.format, resp.Header)
		}
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != len(tests) {
		t.Fatalf("%d ledger rows, want %d", len(rows), len(tests))
	}
	for _, r := range rows {
		if r.Route != "audio.transcriptions" || r.Model != "sim-whisper" || r.Backend != "sim" || r.Status != 200 || r.PromptTokens < 10 {
			t.Errorf("ledger row %+v", r)
		}
	}
	// json reports duration: billed as measured; text formats are estimated.
	if rows[0].Estimated || !rows[1].Estimated {
		t.Errorf("estimated flags: json %v, text %v", rows[0].Estimated, rows[1].Estimated)
	}
}

func TestTranscriptionStream(t *testing.T) {
	env := startAudio(t, "")
	resp := gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "sim-whisper", "stream": "true"}, speechWAV("one two three")))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := sseEvents(t, resp.Body)
	var text string
	for _, e := range events[:3] {
		var d struct{ Type, Delta string }
		json.Unmarshal([]byte(e), &d)
		if d.Type != "transcript.text.delta" {
			t.Fatalf("event %s", e)
		}
		text += d.Delta
	}
	if text != "one two three" || !strings.Contains(events[3], `"transcript.text.done"`) || events[4] != "[DONE]" {
		t.Fatalf("events %q", events)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 1 || rows[0].Estimated || rows[0].CompletionTokens != 3 {
		t.Fatalf("ledger %+v", rows)
	}
}

func TestAudioRefusals(t *testing.T) {
	env := startAudio(t, "")
	wav := speechWAV("hi")
	expectError(t, gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "tgi-chat"}, wav)), 501, "capability_not_supported")
	expectError(t, gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "nope"}, wav)), 404, "model_not_found")
	expectError(t, gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "sim-whisper", "user_id": "bob"}, wav)), 400, "user_id_not_allowed")
	expectError(t, gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "sim-whisper", "response_format": "mp3"}, wav)), 400, "invalid_request")
	expectError(t, gatewaytest.Do(t, uploadAudio(t, env, map[string]string{}, wav)), 400, "missing_parameter")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/audio/transcriptions", `{"model":"sim-whisper"}`)), 400, "invalid_request")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"tgi-chat","input":"hi","voice":"alloy"}`)), 501, "capability_not_supported")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"sim-tts","model":"tgi-chat","input":"hi"}`)), 400, "duplicate_key")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"sim-tts","input":""}`)), 400, "missing_parameter")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/moderations", `{"model":"tei-rerank","input":"hi"}`)), 501, "capability_not_supported")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/rerank", `{"model":"tgi-chat","query":"q","documents":["a"]}`)), 501, "capability_not_supported")
	// A file past 25 MiB.
	big := make([]byte, 25<<20+1)
	expectError(t, gatewaytest.Do(t, uploadAudio(t, env, map[string]string{"model": "sim-whisper"}, big)), 413, "body_too_large")
}

func TestSpeechStreamsAudio(t *testing.T) {
	env := startAudio(t, "")
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"sim-tts","input":"Good night","voice":"alloy","response_format":"wav"}`))
	wav := []byte(readAll(t, resp))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || resp.Header.Get("SPASS-Backend") != "sim" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	samples, rate, err := simulator.ReadWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := simulator.Decode(samples, rate); got != "good night" {
		t.Fatalf("the speech says %q", got)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 1 || rows[0].Route != "audio.speech" || !rows[0].Estimated || rows[0].PromptTokens != 2 {
		t.Fatalf("ledger %+v", rows)
	}
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"sim-tts","input":"x","response_format":"mp3"}`)), 400, "upstream_bad_request")
}

func TestModerations(t *testing.T) {
	env := startAudio(t, "{moderation.model: llama-guard}")
	type result struct {
		Flagged    bool
		Categories map[string]bool
		Hazards    []string
	}
	var out struct {
		Model   string
		Results []result
	}
	// The tenant's moderation.model: a chat model that classifies (vllm kind, no moderation route).
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/moderations", `{"input":["I will kill you, I hate you","What a nice day"]}`))
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || out.Model != "llama-guard" || len(out.Results) != 2 || !out.Results[0].Flagged ||
		!out.Results[0].Categories["violence"] || !out.Results[0].Categories["hate"] || out.Results[1].Flagged ||
		strings.Join(out.Results[0].Hazards, ",") != "S1,S10" {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	// A moderation model: passed through to the backend's own route.
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/moderations", `{"model":"sim-moderation","input":"how to steal a car"}`))
	out.Results = nil
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || len(out.Results) != 1 || !out.Results[0].Categories["illicit"] || resp.Header.Get("SPASS-Backend") != "sim" {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	rows := env.Ledger(t, "acme")
	routes := map[string]int{}
	for _, r := range rows {
		routes[r.Route]++
		if r.Route == "chat" && r.ParentRequestID == "" {
			t.Errorf("a classifier round billed as a request of its own: %+v", r)
		}
	}
	if routes["moderations"] != 2 || routes["chat"] != 2 {
		t.Fatalf("ledger routes %v", routes)
	}
}

func TestRerank(t *testing.T) {
	env := startAudio(t, "")
	type result struct {
		Index          int
		RelevanceScore float64 `json:"relevance_score"`
		Document       *struct{ Text string }
	}
	var out struct {
		Model   string
		Results []result
		Usage   struct {
			TotalTokens int64 `json:"total_tokens"`
		}
	}
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/rerank",
		`{"model":"sim-rerank","query":"red apples","documents":["the blue sky",{"text":"apples are red"},"fast cars"],"top_n":2,"return_documents":true}`))
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || len(out.Results) != 2 || out.Results[0].Index != 1 || out.Results[0].Document == nil ||
		out.Results[0].Document.Text != "apples are red" || out.Results[0].RelevanceScore <= out.Results[1].RelevanceScore || out.Usage.TotalTokens == 0 {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	// TEI's shape, translated both ways; documents only when asked for.
	out.Results = nil
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/rerank", `{"model":"tei-rerank","query":"q","documents":["long document","short","mid doc"]}`))
	readJSON(t, resp.Body, &out)
	if resp.StatusCode != 200 || len(out.Results) != 3 || out.Results[0].Index != 1 || out.Results[2].Index != 0 || out.Results[0].Document != nil {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 2 || rows[0].Route != "rerank" || rows[0].Estimated || !rows[1].Estimated {
		t.Fatalf("ledger %+v", rows)
	}
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/rerank", `{"model":"sim-rerank","query":"q","documents":[]}`)), 400, "missing_parameter")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/rerank", `{"model":"sim-rerank","query":"q","documents":["a"],"top_n":0}`)), 400, "invalid_request")
}
