package conversations_test

import (
	"context"
	"net/http"
	"testing"

	"spass/functions/conversations"
	"spass/local/gatewaytest"
	"spass/local/turnbench"
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
	turnbench.Compare(b, "one turn", 10, 10000, maxTurnRatio, func(b *testing.B, n int) {
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
		// One unmeasured turn warms the connections and checks what is sent.
		warm := seedConversation(b, env.App.Store, n)
		if out := benchTurn(b, h, warm); out.TurnsLeftOut != n-10 {
			b.Fatalf("the window took %d of %d messages, want 10", n-out.TurnsLeftOut, n)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			benchTurn(b, h, ids[i])
		}
	})
}

// turnOut is what the benchmark reads of a turn's answer.
type turnOut struct {
	TurnsLeftOut int `json:"turns_left_out"`
}

// benchTurn sends one turn of conversation id to h and returns its answer.
func benchTurn(b *testing.B, h http.Handler, id string) turnOut {
	return turnbench.Post[turnOut](b, h, "/c1/chat", `{"conversation_id":"`+id+`","message":"`+turnbench.Text+`"}`)
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
		role, body, tokens := turnbench.Message(i)
		msgs[i] = conversation.Message{Role: role, Body: body, Tokens: tokens}
	}
	if err := st.BeginTurn(ctx, "acme", c.ID, "seed", msgs[:n-1]); err != nil {
		b.Fatal(err)
	}
	if err := st.EndTurn(ctx, "acme", c.ID, "seed", &msgs[n-1], "sim-chat", ""); err != nil {
		b.Fatal(err)
	}
	return c.ID
}
