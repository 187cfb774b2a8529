package functions_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/config"
	"spass/shared/web"
)

// A request leaves exactly one log line, in text and in JSON, with its request id,
// who asked, who served it and its tokens, and nothing of the token, the prompt or
// the answer.
func TestRequestLogLine(t *testing.T) {
	const prompt = "the-secret-prompt-words"
	for _, format := range []string{"text", "json"} {
		for _, stream := range []bool{false, true} {
			name := format + map[bool]string{false: "/json-answer", true: "/stream"}[stream]
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				logger := config.Logging{Format: format}.Logger(&buf)
				env := gatewaytest.Start(t, gatewaytest.Setup{Log: logger})
				body := `{"model":"sim-chat","messages":[{"role":"user","content":"` + prompt + `"}],"stream":` + strconv.FormatBool(stream) +
					`,"stream_options":{"include_usage":true}}`
				if !stream {
					body = `{"model":"sim-chat","messages":[{"role":"user","content":"` + prompt + `"}]}`
				}
				req := env.Request(t, "POST", "/v1/chat/completions", body)
				req.Header.Set("SPASS-Tools", "none")
				resp := gatewaytest.Do(t, req)
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, answer)
				}
				id := resp.Header.Get(web.RequestIDHeader)

				lines := requestLines(t, buf.String(), format)
				if len(lines) != 1 {
					t.Fatalf("%d request lines, want 1:\n%s", len(lines), buf.String())
				}
				got := lines[0]
				want := map[string]string{
					"request_id": id, "method": "POST", "route": "POST /v1/chat/completions", "status": "200",
					"tenant": "acme", "user": "alice", "model": "sim-chat", "backend": "sim", "tier": "1",
					"fallbacks": "0", "stream": strconv.FormatBool(stream),
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
				for _, k := range []string{"prompt_tokens", "completion_tokens", "latency_ms"} {
					if n, err := strconv.ParseFloat(got[k], 64); err != nil || n <= 0 {
						t.Errorf("%s = %q, want a positive number", k, got[k])
					}
				}
				for _, secret := range []string{gatewaytest.AdminToken, prompt, "You said"} {
					if strings.Contains(buf.String(), secret) {
						t.Errorf("the log holds %q:\n%s", secret, buf.String())
					}
				}
			})
		}
	}
}

// A refused request has its line too, with the error code and no principal.
func TestRequestLogLineOfARefusal(t *testing.T) {
	var buf bytes.Buffer
	env := gatewaytest.Start(t, gatewaytest.Setup{Log: config.Logging{Format: "json"}.Logger(&buf)})
	req := env.Request(t, "GET", "/v1/models", "")
	req.Header.Set("Authorization", "Bearer sk-wrong-token-value")
	resp := gatewaytest.Do(t, req)
	resp.Body.Close()
	lines := requestLines(t, buf.String(), "json")
	if len(lines) != 1 {
		t.Fatalf("%d request lines, want 1:\n%s", len(lines), buf.String())
	}
	if got := lines[0]; got["status"] != "401" || got["code"] != "invalid_api_key" || got["route"] != "GET /v1/models" || got["tenant"] != "" {
		t.Errorf("line = %v", got)
	}
	if strings.Contains(buf.String(), "sk-wrong-token-value") {
		t.Errorf("the log holds the presented token:\n%s", buf.String())
	}
}

// requestLines parses the log's request lines into field maps.
func requestLines(t *testing.T, log, format string) []map[string]string {
	t.Helper()
	var out []map[string]string
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var m map[string]string
		if format == "json" {
			var raw map[string]any
			if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
				t.Fatalf("not a JSON line: %s", sc.Text())
			}
			m = map[string]string{}
			for k, v := range raw {
				switch v := v.(type) {
				case string:
					m[k] = v
				default:
					b, _ := json.Marshal(v)
					m[k] = string(b)
				}
			}
		} else {
			m = logfmt(t, sc.Text())
		}
		if m["msg"] == web.AccessLogMessage {
			out = append(out, m)
		}
	}
	return out
}

// logfmt parses one line of slog's text handler: key=value pairs, values quoted
// when they hold spaces or quotes.
func logfmt(t *testing.T, line string) map[string]string {
	m := map[string]string{}
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not key=value: %q", line)
		}
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("bad quoted value in %q", rest)
			}
			m[k], _ = strconv.Unquote(q)
			line = rest[len(q):]
			continue
		}
		v, after, _ := strings.Cut(rest, " ")
		m[k], line = v, after
	}
	return m
}
