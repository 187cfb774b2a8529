package conversations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"spass/functions/conversations"
	"spass/local/gatewaytest"
	"spass/shared/conversation"
	"spass/shared/store"
)

// benchYAML gives sim-chat a 4,096-token window. A turn sends at most three
// quarters of it, and every message of the benchmark is about 260 tokens, so the
// window takes the newest ten messages: a conversation of 10 and one of 10,000
// send the same history upstream, and the difference between them is what loading
// that history costs, which must not grow with the conversation.
const benchYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
models:
  - {id: sim-chat, context_window: 4096, chain: [{backend: sim}]}
`

// benchText is the content of every message: 200 words, about 1,000 bytes. The
// simulator echoes it, so the replies a turn adds are as large as the history's.
var benchText = strings.TrimSpace(strings.Repeat("word ", 200))

// maxTurnRatio is the most a turn on 10,000 messages may cost over one on 10.
const maxTurnRatio = 1.2

// BenchmarkTurn runs one non-streamed /c1/chat turn through the real handler
// against the simulator, on a conversation of 10 and of 10,000 messages, and
// fails when the second costs more than maxTurnRatio times the first (make bench).
// Both run in one process, one after the other, so the ratio compares like with
// like; with -count, it compares the medians, and every 10,000 line reports its
// own ratio to that median of the 10 ones (x-of-10).
//
// A turn adds two messages. The 10-message case takes a fresh conversation for
// every turn (seeded before the timer starts); the 10,000-message one keeps one
// conversation, which grows by 2·b.N, a few percent at most.
func BenchmarkTurn(b *testing.B) {
	perTurn := map[int][]float64{} // ns per turn of each measured run
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			env := gatewaytest.Start(b, gatewaytest.Setup{YAML: benchYAML, Sims: []string{"sim"}})
			h := conversations.New(env.App)
			ids := make([]string, b.N)
			for i := range ids {
				if i == 0 || n == 10 {
					ids[i] = seedConversation(b, env.App.Store, n)
				} else {
					ids[i] = ids[0]
				}
			}
			body := func(id string) string {
				return `{"conversation_id":"` + id + `","message":"` + benchText + `"}`
			}
			// One unmeasured turn warms the connections and checks what is sent.
			warm := seedConversation(b, env.App.Store, n)
			if out := benchTurn(b, h, body(warm)); out.TurnsLeftOut != n-10 {
				b.Fatalf("the window took %d of %d messages, want 10", n-out.TurnsLeftOut, n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				benchTurn(b, h, body(ids[i]))
			}
			b.StopTimer()
			if b.N == 1 {
				return // the framework's probe run, before the measured one
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			perTurn[n] = append(perTurn[n], ns)
			if n == 10000 && len(perTurn[10]) > 0 {
				b.ReportMetric(ns/median(perTurn[10]), "x-of-10")
			}
		})
	}
	if len(perTurn[10]) == 0 || len(perTurn[10000]) == 0 {
		return // a -bench pattern selected one case only
	}
	short, long := median(perTurn[10]), median(perTurn[10000])
	b.Logf("one turn: %.0f µs on 10 messages, %.0f µs on 10,000 (medians of %d runs): ratio %.2f, at most %.1f",
		short/1e3, long/1e3, len(perTurn[10]), long/short, maxTurnRatio)
	if long/short > maxTurnRatio {
		b.Errorf("a turn on 10,000 messages costs %.2fx one on 10, more than %.1fx", long/short, maxTurnRatio)
	}
}

// median is the middle of xs (the mean of the two middle ones for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// benchTurn sends one turn to h and returns its answer.
func benchTurn(b *testing.B, h http.Handler, body string) (out struct {
	TurnsLeftOut int `json:"turns_left_out"`
}) {
	req := httptest.NewRequest("POST", "/c1/chat", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+gatewaytest.AdminToken)
	req.Header.Set("SPASS-User-Id", "alice")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("turn: %d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		b.Fatal(err)
	}
	return out
}

// seedConversation stores a conversation of alice's (tenant acme) with n messages,
// user and assistant in turn, in one turn written straight to the store.
func seedConversation(b *testing.B, st *store.DB, n int) string {
	ctx := context.Background()
	c := conversation.Conversation{TenantID: "acme", UserID: "alice", Title: "bench", Model: "sim-chat"}
	if err := st.CreateConversation(ctx, &c); err != nil {
		b.Fatal(err)
	}
	msgs := make([]conversation.Message, n)
	for i := range msgs {
		role, text := "user", benchText
		if i%2 == 1 {
			role, text = "assistant", "Hello! You said: "+benchText
		}
		body, _ := json.Marshal(map[string]string{"role": role, "content": text})
		msgs[i] = conversation.Message{Role: role, Body: body, Tokens: len(body)/4 + 4}
	}
	if err := st.BeginTurn(ctx, "acme", c.ID, "seed", msgs[:n-1]); err != nil {
		b.Fatal(err)
	}
	if err := st.EndTurn(ctx, "acme", c.ID, "seed", &msgs[n-1], "sim-chat", ""); err != nil {
		b.Fatal(err)
	}
	return c.ID
}
