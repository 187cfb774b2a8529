package openai

import (
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/router"
	"spass/shared/web"
)

// maxSpeechInput is OpenAI's longest speech input, in characters.
const maxSpeechInput = 4096

// readJSON reads a JSON object body of the relayed routes (speech, moderations,
// rerank) and checks it with checkJSON.
func readJSON(r *http.Request, keys ...string) ([]byte, error) {
	body, err := web.ReadBody(r)
	if err != nil {
		return nil, err
	}
	if err := checkJSON(body, keys...); err != nil {
		return nil, err
	}
	return body, nil
}

// checkJSON checks a JSON object body of the relayed routes: no user_id,
// and none of keys twice (parsers disagree on which of two equal keys wins, so a
// body could be checked as one model and served as another).
func checkJSON(body []byte, keys ...string) error {
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		return apierr.E(apierr.InvalidJSON, "", nil)
	}
	dup := ""
	seen := map[string]bool{}
	gjson.ParseBytes(body).ForEach(func(k, _ gjson.Result) bool {
		if k.Str == "user_id" {
			dup = "user_id"
			return false
		}
		if seen[k.Str] {
			for _, want := range keys {
				if want == k.Str {
					dup = k.Str
					return false
				}
			}
		}
		seen[k.Str] = true
		return true
	})
	switch dup {
	case "":
		return nil
	case "user_id":
		return apierr.P(apierr.UserIDInBody, "user_id", "")
	}
	return apierr.P(apierr.DuplicateKey, dup, "")
}

// stringField returns body's key, which must be a non-empty string when
// required and a string when present.
func stringField(body []byte, key string, required bool) (string, error) {
	v := gjson.GetBytes(body, key)
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		if required {
			return "", apierr.P(apierr.MissingParameter, key, "You must provide "+key+".")
		}
		return "", nil
	case v.Type != gjson.String:
		return "", apierr.P(apierr.InvalidRequest, key, key+" must be a string.")
	case required && v.Str == "":
		return "", apierr.P(apierr.MissingParameter, key, "You must provide "+key+".")
	}
	return v.Str, nil
}

// speech serves "POST /v1/audio/speech": the body goes to the first backend of
// the model's chain with the audio_out capability, and the audio comes back as
// the backend makes it, read by read (or event by event with stream_format sse).
// Speech reports no usage, so the input is billed at four characters a token,
// flagged as an estimate.
func speech(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := readJSON(r, "model", "input")
		if err != nil {
			return err
		}
		model, err := stringField(body, "model", true)
		if err != nil {
			return err
		}
		input, err := stringField(body, "input", true)
		if err != nil {
			return err
		}
		if utf8.RuneCountInString(input) > maxSpeechInput {
			return apierr.P(apierr.InvalidRequest, "input", "input may be at most 4096 characters.")
		}
		rl, ctx, err := openRelayed(r.Context(), a, w.Header(), "audio.speech", model, backend.AudioOut)
		if err != nil {
			return err
		}
		u := billing.Tokens{Prompt: int64(max(utf8.RuneCountInString(input)/4, 1))}
		err = rl.run(ctx, w.Header(), func(ctx context.Context, t router.Target) error {
			up, err := sjson.SetBytes(body, "model", t.Model)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			return rl.relayStream(ctx, w, t, "/audio/speech", http.Header{"Content-Type": {"application/json"}}, up, nil)
		})
		rl.finish(ctx, err, u, true)
		return err
	}
}
