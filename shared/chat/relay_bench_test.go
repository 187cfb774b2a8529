package chat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/chat"
)

// discard is a sink that drops the answer, so a benchmark measures the core.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (*discard) Answer([]byte)            {}
func (*discard) Events() chat.EventWriter { return discardEvents{} }

type discardEvents struct{}

func (discardEvents) Write([]byte) error { return nil }
func (discardEvents) Flush() error       { return nil }
func (discardEvents) Close()             {}

// BenchmarkStreamRelay relays a 64-token stream from a vLLM backend through
// the core (plain relay, billing on): the work per stream the gateway adds.
// "tools offered" has the backend's hermes format watched for as well; "stack
// tools" is the /v1 default, the tenant's stack tools injected into the request.
func BenchmarkStreamRelay(b *testing.B) {
	var body strings.Builder
	frame := `{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1718000000,"model":"scout","choices":[{"index":0,"delta":`
	body.WriteString("data: " + frame + `{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	for i := range 64 {
		body.WriteString("data: " + frame + fmt.Sprintf(`{"content":" word%d"},"logprobs":null,"finish_reason":null}]}`, i) + "\n\n")
	}
	body.WriteString("data: " + frame + `{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n")
	body.WriteString(`data: {"id":"chatcmpl-7","object":"chat.completion.chunk","created":1718000000,"model":"scout","choices":[],"usage":{"prompt_tokens":9,"total_tokens":73,"completion_tokens":64}}` + "\n\ndata: [DONE]\n\n")
	stream := []byte(body.String())
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(stream)
		}
	}))
	defer up.Close()
	env := gatewaytest.Start(b, gatewaytest.Setup{YAML: "backends:\n  - {name: spark, kind: vllm, base_url: \"" + up.URL + "\"}\nmodels:\n  - {id: scout, chain: [{backend: spark}]}\n"})
	tools := `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
	for _, tt := range []struct {
		name, extra string
		opts        chat.Options
	}{
		{"no tools", "", chat.Options{Tools: chat.ToolPolicy{None: true}}},
		{"tools offered", tools, chat.Options{Tools: chat.ToolPolicy{None: true}}},
		{"stack tools", "", chat.Options{}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			req, err := chat.ParseChat([]byte(`{"model":"scout","messages":[{"role":"user","content":"hi"}],"stream":true` + tt.extra + `}`))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := env.App.Chat.Complete(context.Background(), alice, req, tt.opts, &discard{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
