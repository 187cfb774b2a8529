package openai

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/router"
	"spass/shared/web"
)

// maxAudioBytes is OpenAI's limit on an uploaded audio file (25 MB).
const maxAudioBytes = 25 << 20

// audioSecondTokens is how many prompt tokens one second of audio is billed as
// when the backend reports duration rather than tokens (whisper-1, Speaches):
// about what OpenAI's audio models count for a second of speech.
const audioSecondTokens = 10

// transcriptionFormats are the response_format values of OpenAI's API.
var transcriptionFormats = []string{"json", "text", "srt", "vtt", "verbose_json"}

// formPart is one field of a multipart upload, kept to be sent on upstream.
type formPart struct {
	name, filename, ctype string
	value                 []byte
}

// transcriptionForm is a checked POST /v1/audio/transcriptions form.
type transcriptionForm struct {
	parts  []formPart
	file   []byte
	model  string
	format string
	stream bool
}

// readTranscriptionForm reads the whole multipart form (at most maxAudioBytes of
// audio), checks it, and refuses a user_id field wherever it stands.
func readTranscriptionForm(w http.ResponseWriter, r *http.Request) (*transcriptionForm, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" || params["boundary"] == "" {
		return nil, apierr.P(apierr.InvalidRequest, "file", "Send multipart/form-data with the audio in the field file.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAudioBytes+256<<10) // room for the other fields
	mr := multipart.NewReader(r.Body, params["boundary"])
	f := &transcriptionForm{format: "json"}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, audioBodyError(err)
		}
		name := part.FormName()
		if name == "user_id" {
			return nil, apierr.P(apierr.UserIDInBody, "user_id", "")
		}
		limit := int64(64 << 10)
		if name == "file" {
			limit = maxAudioBytes
		}
		v, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, audioBodyError(err)
		}
		if int64(len(v)) > limit {
			return nil, apierr.P(apierr.BodyTooLarge, name, "An audio file may be at most 25 MiB; other fields 64 KiB.")
		}
		if seen[name] && !strings.HasSuffix(name, "[]") {
			return nil, apierr.P(apierr.DuplicateKey, name, "")
		}
		seen[name] = true
		f.parts = append(f.parts, formPart{name: name, filename: part.FileName(), ctype: part.Header.Get("Content-Type"), value: v})
		switch name {
		case "file":
			f.file = v
		case "model":
			f.model = string(v)
		case "response_format":
			f.format = string(v)
		case "stream":
			switch string(v) {
			case "true":
				f.stream = true
			case "false":
			default:
				return nil, apierr.P(apierr.InvalidRequest, "stream", "stream must be true or false.")
			}
		}
	}
	switch {
	case f.file == nil:
		return nil, apierr.P(apierr.MissingParameter, "file", "You must provide the audio in the field file.")
	case f.model == "":
		return nil, apierr.P(apierr.MissingParameter, "model", "You must provide a model.")
	case !slices.Contains(transcriptionFormats, f.format):
		return nil, apierr.P(apierr.InvalidRequest, "response_format", "response_format must be one of json, text, srt, vtt, verbose_json.")
	}
	return f, nil
}

func audioBodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apierr.E(apierr.BodyTooLarge, "An audio file may be at most 25 MiB.", nil)
	}
	return web.BodyError(err)
}

// body is the form as the backend gets it: every field as sent, model set to
// the backend's id for it.
func (f *transcriptionForm) body(upstreamModel string) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range f.parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + escapeQuotes(p.name) + `"`
		if p.filename != "" || p.name == "file" {
			cd += `; filename="` + escapeQuotes(p.filename) + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		v := p.value
		if p.name == "model" {
			v = []byte(upstreamModel)
		}
		pw, _ := mw.CreatePart(h)
		pw.Write(v)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

// transcriptions serves "POST /v1/audio/transcriptions": the form goes to the
// first backend of the model's chain with the audio_in capability; the answer
// (json, text, srt, vtt, verbose_json, or a stream of transcript events) comes
// back as the backend wrote it.
func transcriptions(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := readTranscriptionForm(w, r)
		if err != nil {
			return err
		}
		rl, ctx, err := openRelayed(r.Context(), a, w.Header(), "audio.transcriptions", f.model, backend.AudioIn)
		if err != nil {
			return err
		}
		var u billing.Tokens
		reported := false
		err = rl.run(ctx, w.Header(), func(ctx context.Context, t router.Target) error {
			body, ctype := f.body(t.Model)
			h := http.Header{"Content-Type": {ctype}}
			if f.stream {
				h.Set("Accept", "text/event-stream")
				text := 0
				err := rl.relayStream(ctx, w, t, "/audio/transcriptions", h, body, func(data []byte) {
					switch gjson.GetBytes(data, "type").Str {
					case "transcript.text.delta":
						text += len(gjson.GetBytes(data, "delta").Str)
					case "transcript.text.done":
						u, reported = usageOf(gjson.GetBytes(data, "usage"))
					}
				})
				if err == nil && !reported {
					u = billing.Tokens{Prompt: audioTokens(f.file), Completion: int64(max(text/4, 1))}
				}
				return err
			}
			resp, cancel, err := send(ctx, t, a.Chat.Response, true, "/audio/transcriptions", true, h, body)
			if err != nil {
				return err
			}
			defer cancel()
			defer resp.Body.Close()
			out, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamAnswer))
			if err != nil {
				return &router.Failure{Cause: err}
			}
			u, reported = transcriptionUsage(f, out)
			rl.served(w.Header(), t)
			copyHeader(w.Header(), resp.Header, "Content-Type")
			w.WriteHeader(http.StatusOK)
			w.Write(out)
			return nil
		})
		rl.finish(ctx, err, u, err == nil && !reported)
		return err
	}
}

// transcriptionUsage is what a buffered transcript is billed: the usage the
// backend reported (tokens, or seconds of audio at audioSecondTokens each), else
// an estimate from the audio's length and the transcript's.
func transcriptionUsage(f *transcriptionForm, out []byte) (billing.Tokens, bool) {
	if f.format == "json" || f.format == "verbose_json" {
		usage := gjson.GetBytes(out, "usage")
		if usage.Get("type").Str == "duration" || !usage.Exists() && gjson.GetBytes(out, "duration").Exists() {
			secs := usage.Get("seconds").Float()
			if !usage.Exists() {
				secs = gjson.GetBytes(out, "duration").Float()
			}
			text := gjson.GetBytes(out, "text").Str
			return billing.Tokens{Prompt: int64(math.Ceil(secs)) * audioSecondTokens, Completion: int64(max(len(text)/4, 1))}, true
		}
		if u, ok := usageOf(usage); ok {
			return u, true
		}
		return billing.Tokens{Prompt: audioTokens(f.file), Completion: int64(max(len(gjson.GetBytes(out, "text").Str)/4, 1))}, false
	}
	return billing.Tokens{Prompt: audioTokens(f.file), Completion: int64(max(len(out)/4, 1))}, false
}

// audioTokens estimates the prompt tokens of an upload: its duration from a WAV
// header, else from its size as if 128 kbit/s, at audioSecondTokens a second.
func audioTokens(file []byte) int64 {
	secs := float64(len(file)) / 16000
	if len(file) >= 44 && string(file[0:4]) == "RIFF" && string(file[8:12]) == "WAVE" {
		if rate := binary.LittleEndian.Uint32(file[28:32]); rate > 0 { // byte rate of the fmt chunk
			secs = float64(len(file)-44) / float64(rate)
		}
	}
	return max(int64(math.Ceil(secs))*audioSecondTokens, 1)
}

func copyHeader(dst, src http.Header, keys ...string) {
	for _, k := range keys {
		if v := src.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
}
