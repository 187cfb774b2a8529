package openai_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

// twoTiers routes sim-chat through backend "a" (T1) then "b" (T2).
const twoTiers = `
backends:
  - {name: a, kind: simulator, base_url: "{{a}}"}
  - {name: b, kind: simulator, base_url: "{{b}}"}
models:
  - {id: sim-chat, chain: [{backend: a}, {backend: b}]}
  - {id: sim-embed, type: embedding, chain: [{backend: a}, {backend: b}]}
  - {id: sim-vision, vision: true, chain: [{backend: a}, {backend: b}]}
`

func startTwoTiers(t *testing.T) *gatewaytest.Env {
	return gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"a", "b"}, YAML: twoTiers})
}

const hello = `{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}]}`
const helloStream = `{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}],"stream":true}`

// errorBody decodes an OpenAI error body.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

func readJSON(t *testing.T, r io.Reader, v any) {
	t.Helper()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func expectError(t *testing.T, resp *http.Response, status int, code string) errorBody {
	t.Helper()
	var e errorBody
	readJSON(t, resp.Body, &e)
	if resp.StatusCode != status || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, e, status, code)
	}
	return e
}

// sseEvents reads every data payload of an SSE body until it ends.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, v)
		}
	}
	return out
}

// content concatenates the delta contents of stream events.
func content(t *testing.T, events []string) string {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		if e == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("bad event %q: %v", e, err)
		}
		for _, ch := range c.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String()
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
