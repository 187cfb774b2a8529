package discovery_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// exerciseAudio sends transcriptions (each format, and streamed), speech,
// moderations, rerank and the operator's passthrough, with their catalog errors.
func exerciseAudio(t *testing.T, env *gatewaytest.Env, c *contract) {
	wav := simulator.WAV(simulator.Synthesize("hello there", 16000), 16000)
	transcribe := func(fields map[string]string) *http.Request {
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "speech.wav")
		fw.Write(wav)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		mw.Close()
		return withHeader(env.Request(t, "POST", "/v1/audio/transcriptions", form.String()), "Content-Type", mw.FormDataContentType())
	}
	for _, f := range []string{"json", "text", "srt", "vtt", "verbose_json"} {
		c.do(t, transcribe(map[string]string{"model": "sim-whisper", "response_format": f}), http.StatusOK)
	}
	c.do(t, transcribe(map[string]string{"model": "sim-whisper", "stream": "true"}), http.StatusOK)
	_, body := c.do(t, transcribe(map[string]string{"model": "sim-whisper", "response_format": "mp3"}), http.StatusBadRequest)
	wantCode(t, body, "invalid_request")
	_, body = c.do(t, transcribe(map[string]string{"model": "tgi-embed"}), http.StatusNotImplemented)
	wantCode(t, body, "capability_not_supported")

	c.do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"sim-tts","input":"Hello","voice":"alloy","response_format":"wav"}`), http.StatusOK)
	_, body = c.do(t, env.Request(t, "POST", "/v1/audio/speech", `{"model":"sim-tts"}`), http.StatusBadRequest)
	wantCode(t, body, "missing_parameter")

	c.do(t, env.Request(t, "POST", "/v1/moderations", `{"model":"sim-moderation","input":["I will kill them","a nice day"]}`), http.StatusOK)
	c.do(t, env.Request(t, "POST", "/v1/moderations", `{"input":"a nice day"}`), http.StatusOK) // the first moderation model
	_, body = c.do(t, env.Request(t, "POST", "/v1/moderations", `{"model":"tgi-embed","input":"x"}`), http.StatusNotImplemented)
	wantCode(t, body, "capability_not_supported")

	c.do(t, env.Request(t, "POST", "/v1/rerank", `{"model":"sim-rerank","query":"red apples","documents":["blue sky",{"text":"apples are red"}],"top_n":1,"return_documents":true}`), http.StatusOK)
	_, body = c.do(t, env.Request(t, "POST", "/v1/rerank", `{"model":"sim-rerank","query":"q"}`), http.StatusBadRequest)
	wantCode(t, body, "missing_parameter")

	op := func(method, path, body string) *http.Request {
		req := env.Request(t, method, path, body)
		req.Header.Set("Authorization", "Bearer "+gatewaytest.OperatorToken)
		return req
	}
	// The document describes the passthrough at its root only (OpenAPI has no
	// subtree paths): the simulator's GET / is its health answer.
	c.do(t, op("GET", "/proxy/sim/", ""), http.StatusOK)
	_, body = c.do(t, env.Request(t, "GET", "/proxy/sim/", ""), http.StatusForbidden)
	wantCode(t, body, "permission_denied")
	_, body = c.do(t, op("GET", "/proxy/nope/", ""), http.StatusNotFound)
	wantCode(t, body, "not_found")
	_, body = c.do(t, op("GET", "/debug/pprof/", ""), http.StatusNotFound) // off by default
	wantCode(t, body, "not_found")
}
