package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// speechRate is the sample rate of the simulator's speech: OpenAI's wav and pcm
// answers are 24 kHz too.
const speechRate = 24000

// transcription is what the simulator heard in an upload.
type transcription struct {
	text     string
	duration float64 // seconds
	words    []timedWord
}

type timedWord struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// transcribe hears audio: a WAV file is decoded (see tones.go); anything else,
// which the simulator cannot decode, gets a fixed sentence naming its size, so
// a test still knows what comes back.
func transcribe(audio []byte) transcription {
	samples, rate, err := ReadWAV(audio)
	if err != nil {
		dur := math.Round(float64(len(audio))/16000*100) / 100 // as if 128 kbit/s
		text := fmt.Sprintf("audio of %d bytes", len(audio))
		return transcription{text: text, duration: dur, words: spread(text, 0, dur)}
	}
	text, syms := Decode(samples, rate)
	t := transcription{text: text, duration: math.Round(float64(len(samples))/float64(rate)*1000) / 1000}
	var cur *timedWord
	for _, s := range syms {
		if s.slot == 0 { // a space ends the word
			cur = nil
			continue
		}
		if cur == nil {
			t.words = append(t.words, timedWord{Start: s.start})
			cur = &t.words[len(t.words)-1]
		}
		cur.Word += string(toneAlphabet[s.slot])
		cur.End = s.end
	}
	return t
}

// spread gives the words of text equal shares of [start, end].
func spread(text string, start, end float64) []timedWord {
	ws := strings.Fields(text)
	out := make([]timedWord, len(ws))
	step := (end - start) / float64(max(len(ws), 1))
	for i, w := range ws {
		out[i] = timedWord{Word: w, Start: start + step*float64(i), End: start + step*float64(i+1)}
	}
	return out
}

// transcriptionForm is the multipart form of POST /v1/audio/transcriptions.
type transcriptionForm struct {
	file                          []byte
	model, format, language       string
	stream                        bool
	wordTimestamps, segmentStamps bool
}

func readTranscriptionForm(r *http.Request, body []byte) (transcriptionForm, *apiError) {
	var f transcriptionForm
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		e := errInvalidParam("file", "send multipart/form-data")
		return f, &e
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			e := errInvalidParam("file", "the multipart body could not be read: %v", err)
			return f, &e
		}
		v, _ := io.ReadAll(p)
		switch p.FormName() {
		case "file":
			f.file = v
		case "model":
			f.model = string(v)
		case "response_format":
			f.format = string(v)
		case "language":
			f.language = string(v)
		case "stream":
			f.stream = string(v) == "true"
		case "timestamp_granularities[]", "timestamp_granularities":
			f.wordTimestamps = f.wordTimestamps || string(v) == "word"
			f.segmentStamps = f.segmentStamps || string(v) == "segment"
		}
	}
	if f.file == nil {
		e := errMissingParam("file")
		return f, &e
	}
	if f.model == "" {
		e := errMissingParam("model")
		return f, &e
	}
	return f, nil
}

// handleTranscriptions implements POST /v1/audio/transcriptions in every
// response_format (json, text, srt, vtt, verbose_json) and, with stream=true,
// as transcript.text.delta events (one per word) and a transcript.text.done.
// Any model name is accepted, as for images.
func (s *Server) handleTranscriptions(x *exchange) {
	f, e := readTranscriptionForm(x.r, x.body)
	if e != nil {
		x.fail(*e)
		return
	}
	t := transcribe(f.file)
	words := strings.Fields(t.text)
	if !x.wait(s.opts.TokenDelay * time.Duration(len(words))) {
		return
	}
	usage := map[string]any{"type": "duration", "seconds": int(math.Ceil(t.duration))}
	if f.stream {
		s.streamTranscription(x, t, words)
		return
	}
	switch f.format {
	case "", "json":
		x.respond(map[string]any{"text": t.text, "usage": usage})
	case "text":
		x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(x.w, t.text+"\n")
	case "srt", "vtt":
		x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(x.w, subtitles(t, f.format == "vtt"))
	case "verbose_json":
		out := map[string]any{"task": "transcribe", "language": cmpOr(f.language, "english"), "duration": t.duration,
			"text": t.text, "segments": segments(t), "usage": usage}
		if f.wordTimestamps {
			out["words"] = t.words
		}
		x.respond(out)
	default:
		x.fail(errInvalidParam("response_format", "response_format must be json, text, srt, vtt or verbose_json, got %q", f.format))
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// streamTranscription writes OpenAI's streamed transcription events.
func (s *Server) streamTranscription(x *exchange, t transcription, words []string) {
	h := x.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	x.w.WriteHeader(http.StatusOK)
	fl, _ := x.w.(http.Flusher)
	event := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(x.w, "data: %s\n\n", b); err != nil {
			x.recordCancel()
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		if !x.wait(s.opts.TokenDelay) || !event(map[string]any{"type": "transcript.text.delta", "delta": w}) {
			return
		}
	}
	in := max(int(math.Ceil(t.duration*10)), 1) // audio tokens: about ten a second
	out := max(len(words), 1)
	if event(map[string]any{"type": "transcript.text.done", "text": t.text,
		"usage": map[string]any{"type": "tokens", "input_tokens": in, "output_tokens": out, "total_tokens": in + out,
			"input_token_details": map[string]any{"audio_tokens": in, "text_tokens": 0}}}) {
		io.WriteString(x.w, "data: [DONE]\n\n")
	}
}

// segments are the transcript's sentences: here one per word, with its times.
func segments(t transcription) []map[string]any {
	out := []map[string]any{}
	for i, w := range t.words {
		out = append(out, map[string]any{"id": i, "seek": 0, "start": w.Start, "end": w.End, "text": " " + w.Word,
			"tokens": []int{}, "temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.01})
	}
	return out
}

// subtitles writes the transcript as SubRip or WebVTT, one cue per word.
func subtitles(t transcription, vtt bool) string {
	var b strings.Builder
	stamp := func(sec float64) string {
		ms := int(math.Round(sec * 1000))
		sep := ","
		if vtt {
			sep = "."
		}
		return fmt.Sprintf("%02d:%02d:%02d%s%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
	}
	if vtt {
		b.WriteString("WEBVTT\n\n")
	}
	for i, w := range t.words {
		if !vtt {
			fmt.Fprintf(&b, "%d\n", i+1)
		}
		fmt.Fprintf(&b, "%s --> %s\n%s\n\n", stamp(w.Start), stamp(w.End), w.Word)
	}
	return b.String()
}

// speechRequest is the body of POST /v1/audio/speech.
type speechRequest struct {
	Model          string   `json:"model"`
	Input          string   `json:"input"`
	Voice          any      `json:"voice"`
	ResponseFormat string   `json:"response_format"`
	Speed          *float64 `json:"speed"`
}

// handleSpeech implements POST /v1/audio/speech: the input in the tone code, as
// a WAV file (response_format wav, or none) or raw 24 kHz 16-bit PCM (pcm),
// written in 100 ms pieces that follow each other at TokenDelay, so a client
// sees the audio arrive while it is made. Formats it cannot encode (mp3, opus,
// aac, flac) are refused.
func (s *Server) handleSpeech(x *exchange) {
	var req speechRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	switch {
	case req.Model == "":
		x.fail(errMissingParam("model"))
		return
	case req.Input == "":
		x.fail(errMissingParam("input"))
		return
	case len(req.Input) > 4096:
		x.fail(errInvalidParam("input", "input must be at most 4096 characters"))
		return
	}
	pcm := PCM16(Synthesize(req.Input, speechRate))
	var head []byte
	switch req.ResponseFormat {
	case "", "wav":
		head = wavHeader(len(pcm), speechRate)
		x.w.Header().Set("Content-Type", "audio/wav")
	case "pcm":
		x.w.Header().Set("Content-Type", "audio/pcm")
	default:
		x.fail(errInvalidParam("response_format", "the simulator speaks wav and pcm, not %q", req.ResponseFormat))
		return
	}
	x.w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(pcm)))
	x.w.WriteHeader(http.StatusOK)
	fl, _ := x.w.(http.Flusher)
	piece := speechRate / 10 * 2 // 100 ms of 16-bit samples
	if _, err := x.w.Write(head); err != nil {
		x.recordCancel()
		return
	}
	for p := 0; p < len(pcm); p += piece {
		if p > 0 && !x.wait(s.opts.TokenDelay) {
			return
		}
		if _, err := x.w.Write(pcm[p:min(p+piece, len(pcm))]); err != nil {
			x.recordCancel()
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}
