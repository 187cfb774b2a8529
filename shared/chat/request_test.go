package chat

import (
	"errors"
	"testing"

	"spass/shared/apierr"
)

func TestParseChatFields(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body          string
		code                apierr.Code // "" for success
		stream, usage, hits bool        // hits: the response cache may answer it
	}{
		{"plain", `{"model":"m",` + msgs + `}`, "", false, false, false},
		{"stream with usage", `{"model":"m",` + msgs + `,"stream":true,"stream_options":{"include_usage":true}}`, "", true, true, false},
		{"temperature 0", `{"model":"m",` + msgs + `,"temperature":0}`, "", false, false, true},
		{"seed", `{"seed":7,"model":"m",` + msgs + `}`, "", false, false, true},
		{"seed but n 2", `{"model":"m",` + msgs + `,"seed":7,"n":2}`, "", false, false, false},
		{"temperature as a string", `{"model":"m",` + msgs + `,"temperature":"0"}`, "", false, false, false},
		{"streams are not cached", `{"model":"m",` + msgs + `,"seed":1,"stream":true}`, "", true, false, false},
		{"stream twice", `{"model":"m",` + msgs + `,"stream":true,"stream":false}`, apierr.DuplicateKey, false, false, false},
		{"model twice", `{"model":"m",` + msgs + `,"model":"other"}`, apierr.DuplicateKey, false, false, false},
		{"model twice, escaped", `{"model":"m",` + msgs + `,"mod\u0065l":"other"}`, apierr.DuplicateKey, false, false, false},
		{"stream_options twice", `{"model":"m",` + msgs + `,"stream":true,"stream_options":{"include_usage":true},"stream_options":{}}`, apierr.DuplicateKey, false, false, false},
		{"include_usage twice", `{"model":"m",` + msgs + `,"stream":true,"stream_options":{"include_usage":true,"include_usage":false}}`, apierr.DuplicateKey, false, false, false},
		{"other keys may repeat", `{"model":"m",` + msgs + `,"x":1,"x":2}`, "", false, false, false},
		{"not an object", `[1]`, apierr.InvalidJSON, false, false, false},
		{"invalid", `{"model":`, apierr.InvalidJSON, false, false, false},
		{"user_id", `{"model":"m",` + msgs + `,"user_id":"u"}`, apierr.UserIDInBody, false, false, false},
		{"no model", `{` + msgs + `}`, apierr.MissingParameter, false, false, false},
		{"empty messages", `{"model":"m","messages":[ ]}`, apierr.MissingParameter, false, false, false},
		{"stream not a boolean", `{"model":"m",` + msgs + `,"stream":1}`, apierr.InvalidRequest, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseChat([]byte(tt.body))
			if tt.code != "" {
				var e *apierr.Error
				if !errors.As(err, &e) || e.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Model != "m" || req.Stream != tt.stream || req.IncludeUsage != tt.usage || (cacheable(req) != nil) != tt.hits {
				t.Errorf("model %q stream %v usage %v cacheable %v; want m %v %v %v",
					req.Model, req.Stream, req.IncludeUsage, cacheable(req) != nil, tt.stream, tt.usage, tt.hits)
			}
		})
	}
}
