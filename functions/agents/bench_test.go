package agents_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"spass/functions/agents"
	"spass/local/gatewaytest"
	"spass/local/turnbench"
	"spass/shared/agent"
	"spass/shared/store"
)

// benchYAML gives sim-chat an 8,192-token window: a turn that replays ten messages
// of about 260 tokens, a summary and its facts stays far below the 80 % at which a
// session compacts, so no measured turn compacts.
const benchYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
models:
  - {id: sim-chat, context_window: 8192, chain: [{backend: sim}]}
`

// benchSummary and benchFacts stand for what compaction leaves at the head of a
// long session's current segment (a summary of up to a few KiB, the durable facts).
var (
	benchSummary = strings.TrimSpace(strings.Repeat("The user wrote about the river, the boats and the weather. ", 16))
	benchFacts   = []string{"Remember: my locker code is 4417", "The budget is 12,000 EUR", "We decided to meet on 14 March",
		"Open task: send the report to Ada by Friday", "My name is Grace", "The deadline is 2027-01-31", "Invoice 5521 is paid",
		"Room 301 is booked for the review"}
)

// keptMessages is how many messages the current segment of either session holds
// when a turn starts: compaction keeps a long session's segment that short.
const keptMessages = 10

// maxTurnRatio is the most a turn on 1,000 messages may cost over one on 10.
const maxTurnRatio = 1.2

// BenchmarkTurn runs one non-streamed agent turn (POST /a1/sessions/{id}/messages)
// through the real handler against the simulator, on a session of 10 and of 1,000
// messages, and fails when the second costs more than maxTurnRatio times the first
// (make bench). With -count, it compares the medians, and every 1,000 line reports
// its own ratio to that median of the 10 ones (x-of-10).
//
// The session of 10 messages is one segment; each turn takes a fresh one (seeded
// before the timer starts). The session of 1,000 is what compaction leaves: 99
// closed segments, each with its summary and facts, and a current one holding the
// last 10 messages. A turn replays the current segment only, so both turns send the
// model ten messages (the long one also its summary and facts). Between two turns,
// with the timer stopped, the long session's segment is closed again as compaction
// would, keeping its last 10 messages; its segments grow by one a turn.
func BenchmarkTurn(b *testing.B) {
	turnbench.Compare(b, "one agent turn", 10, 1000, maxTurnRatio, func(b *testing.B, n int) {
		env := gatewaytest.Start(b, gatewaytest.Setup{YAML: benchYAML, Sims: []string{"sim"}})
		st := env.App.Store
		ctx := context.Background()
		if _, err := st.SaveAgent(ctx, "acme", agent.Agent{Name: "bench", Model: "sim-chat", SystemPrompt: "You answer briefly.",
			Tools: []string{}, SessionOverrides: []string{}}); err != nil {
			b.Fatal(err)
		}
		h := agents.New(env.App)
		long := seedSession(b, st, n) // the 1,000 case's one session
		ids := make([]string, b.N)
		for i := range ids {
			if n == 10 {
				ids[i] = seedSession(b, st, n).id
			}
		}
		// One unmeasured turn warms the connections and checks what is sent.
		warm := seedSession(b, st, n)
		if out := benchTurn(b, h, warm.id); out.Compacted != 0 {
			b.Fatalf("the warm-up turn compacted %d times", out.Compacted)
		}
		if sent := env.Sims["sim"].LastRequest(); n > 10 && !strings.Contains(string(sent), "locker code is 4417") {
			b.Fatalf("the turn did not send the segment's facts: %.300s", sent)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			id := ids[i]
			if n > 10 {
				if i > 0 {
					long.bound(b, st)
				}
				id = long.id
			}
			b.StartTimer()
			if out := benchTurn(b, h, id); out.Compacted != 0 {
				b.Fatalf("turn %d compacted", i)
			}
		}
	})
}

// turnOut is what the benchmark reads of a turn's answer.
type turnOut struct {
	Compacted int `json:"compacted"`
}

// benchTurn sends one turn of session id to h and returns its answer.
func benchTurn(b *testing.B, h http.Handler, id string) turnOut {
	return turnbench.Post[turnOut](b, h, "/a1/sessions/"+id+"/messages", `{"content":"`+turnbench.Text+`"}`)
}

// benchSession is a seeded session: its id, its current segment, its next seq.
type benchSession struct {
	id      string
	segment int
	next    int64
}

// seedSession stores a session of alice's (tenant acme) with n messages, user and
// assistant in turn, written straight to the store. Past keptMessages, the messages
// before the last keptMessages are split into closed segments of ten, each with a
// summary and facts, as compaction would have left them.
func seedSession(b *testing.B, st *store.DB, n int) *benchSession {
	ctx := context.Background()
	s := agent.Session{TenantID: "acme", UserID: "alice", Agent: "bench"}
	if err := st.CreateSession(ctx, &s); err != nil {
		b.Fatal(err)
	}
	msgs := make([]agent.Message, n)
	for i := range msgs {
		role, body, tokens := turnbench.Message(i)
		msgs[i] = agent.Message{Role: role, Body: body, Tokens: tokens}
	}
	if err := st.AddSessionMessages(ctx, "acme", s.ID, "seed", agent.StatusPending, msgs[:n-1]); err != nil {
		b.Fatal(err)
	}
	if err := st.EndSessionTurn(ctx, "acme", s.ID, "seed", &msgs[n-1]); err != nil {
		b.Fatal(err)
	}
	bs := &benchSession{id: s.ID, segment: 1, next: int64(n) + 1}
	for start := int64(11); start <= int64(n-keptMessages)+1; start += 10 {
		bs.open(b, st, start)
	}
	return bs
}

// bound closes the session's segment as compaction does, keeping its last
// keptMessages messages (the previous turn added two).
func (s *benchSession) bound(b *testing.B, st *store.DB) {
	s.next += 2
	s.open(b, st, s.next-keptMessages)
}

// open starts the session's next segment at seq start.
func (s *benchSession) open(b *testing.B, st *store.DB, start int64) {
	facts, _ := json.Marshal(benchFacts)
	seg := agent.Segment{Number: s.segment + 1, StartSeq: start, Summary: benchSummary, Facts: facts, Turn: "seed"}
	if ok, err := st.OpenSegment(context.Background(), "acme", s.id, seg); err != nil || !ok {
		b.Fatalf("segment %d: %v %v", seg.Number, ok, err)
	}
	s.segment++
}
