package simulator

import (
	"bytes"
	"encoding/json"
	"flag"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/speech.wav")

// FixtureText is what testdata/speech.wav says in the tone code.
const FixtureText = "hello spass"

func TestToneCodeRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000, 24000, 44100, 48000} {
		samples := Synthesize("Hello, SPASS 42!", rate)
		got, syms := Decode(samples, rate)
		if got != "hello spass 42" {
			t.Errorf("rate %d: heard %q (%d symbols)", rate, got, len(syms))
		}
	}
}

func TestToneCodeLooped(t *testing.T) {
	one := Synthesize(FixtureText, 16000)
	// A fake microphone that loops the file, recorded from an arbitrary point.
	loop := append(append(append([]float64{}, one...), one...), one...)
	for _, start := range []int{0, 1234, len(one) / 3, len(one) / 2, len(one) - 100} {
		got, _ := Decode(loop[start:start+2*len(one)+800], 16000)
		if got != FixtureText {
			t.Errorf("from sample %d: heard %q", start, got)
		}
	}
	if got, _ := Decode(make([]float64, 16000), 16000); got != "" {
		t.Errorf("silence heard as %q", got)
	}
}

// TestToneCodeDropout: a microphone that drops a few milliseconds inside a tone
// (a browser's fake microphone on a busy machine does) leaves one silent frame in
// it; the tone is still one character, while the silence between two characters
// keeps "ll" two.
func TestToneCodeDropout(t *testing.T) {
	const rate = 16000
	slot := int((toneOn + toneOff) * rate)
	for _, drop := range []struct{ from, to float64 }{
		{0.040, 0.060}, // one frame, aligned (the second "l" of "hello" starts at 0.64 s)
		{0.035, 0.065}, // 30 ms across three frames
		{0.021, 0.039}, // 18 ms inside one frame
	} {
		samples := Synthesize(FixtureText, rate)
		at := 4 * slot // marker, h, e, l: the second l
		for i := at + int(drop.from*rate); i < at+int(drop.to*rate); i++ {
			samples[i] = 0
		}
		if got, _ := Decode(samples, rate); got != FixtureText {
			t.Errorf("dropout %v–%v s into a tone: heard %q", drop.from, drop.to, got)
		}
	}
}

// TestSpeechFixture keeps testdata/speech.wav equal to what /v1/audio/speech says
// for FixtureText (the browser test feeds it to Chromium's fake microphone).
func TestSpeechFixture(t *testing.T) {
	want := WAV(Synthesize(FixtureText, speechRate), speechRate)
	if *update {
		if err := os.WriteFile("testdata/speech.wav", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/speech.wav")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("testdata/speech.wav is stale (%v); run go test ./local/simulator -run TestSpeechFixture -update", err)
	}
	samples, rate, err := ReadWAV(got)
	if err != nil || rate != speechRate {
		t.Fatal(err, rate)
	}
	if text, _ := Decode(samples, rate); text != FixtureText {
		t.Fatalf("the fixture says %q", text)
	}
}

func postForm(t *testing.T, h http.Handler, fields map[string]string, file []byte) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "speech.wav")
	fw.Write(file)
	mw.Close()
	req := httptest.NewRequest("POST", "/v1/audio/transcriptions", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSpeechThenTranscription(t *testing.T) {
	s := New(Options{})
	req := httptest.NewRequest("POST", "/v1/audio/speech", strings.NewReader(`{"model":"tts","input":"Good morning","voice":"alloy","response_format":"wav"}`))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "audio/wav" {
		t.Fatalf("speech: %d %s", rec.Code, rec.Body.Bytes()[:min(200, rec.Body.Len())])
	}
	wav := rec.Body.Bytes()
	tests := []struct{ format, want string }{
		{"json", `"text":"good morning"`},
		{"text", "good morning\n"},
		{"srt", "1\n00:00:00,160 --> 00:00:00,740\ngood\n\n2\n00:00:00,960 --> "},
		{"vtt", "WEBVTT\n\n00:00:00.160 --> "},
		{"verbose_json", `"segments":[{`},
	}
	for _, tt := range tests {
		rec := postForm(t, s, map[string]string{"model": "whisper", "response_format": tt.format}, wav)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: %d %q, want %q in it", tt.format, rec.Code, rec.Body.String(), tt.want)
		}
	}
	rec = postForm(t, s, map[string]string{"model": "whisper", "stream": "true"}, wav)
	if !strings.Contains(rec.Body.String(), `"delta":" morning"`) || !strings.Contains(rec.Body.String(), `"type":"transcript.text.done","usage"`) &&
		!strings.Contains(rec.Body.String(), `transcript.text.done`) || !strings.HasSuffix(rec.Body.String(), "data: [DONE]\n\n") {
		t.Errorf("stream: %s", rec.Body.String())
	}
	rec = postForm(t, s, map[string]string{"model": "whisper"}, []byte("ID3 not a wav"))
	if !strings.Contains(rec.Body.String(), `"text":"audio of 13 bytes"`) {
		t.Errorf("non-WAV: %s", rec.Body.String())
	}
}

func TestModerationsAndRerank(t *testing.T) {
	s := New(Options{})
	do := func(path, body string) map[string]any {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
		var out map[string]any
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		return out
	}
	out := do("/v1/moderations", `{"input":["I will kill them","a nice day"]}`)
	rs := out["results"].([]any)
	if rs[0].(map[string]any)["flagged"] != true || rs[1].(map[string]any)["flagged"] != false {
		t.Errorf("moderations: %v", out)
	}
	if got := GuardVerdict("I hate you and will kill you"); got != "unsafe\nS1,S10" {
		t.Errorf("guard verdict %q", got)
	}
	out = do("/v1/rerank", `{"model":"r","query":"red apples","documents":["blue sky",{"text":"apples are red"},"cars"],"top_n":2}`)
	rs = out["results"].([]any)
	if len(rs) != 2 || rs[0].(map[string]any)["index"] != 1.0 {
		t.Errorf("rerank: %v", out)
	}
}
