package agents_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"spass/local/simulator"
)

// recorder stands in front of the simulator and keeps every chat request body.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	next   http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	if strings.HasSuffix(req.URL.Path, "/chat/completions") {
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	r.next.ServeHTTP(w, req)
}

// TestLongSessionCompacts runs 200 turns on a model with a 1,000-token window:
// every upstream request stays within the window, the session compacts more than
// once, a fact planted in turn 1 is still sent at turn 200, and the lineage holds
// every original message in order.
func TestLongSessionCompacts(t *testing.T) {
	const window = 1000
	rec := &recorder{next: simulator.New(simulator.Options{})}
	backend := httptest.NewServer(rec)
	defer backend.Close()
	env := start(t, `
backends:
  - {name: sim, kind: simulator, base_url: "`+backend.URL+`"}
models:
  - {id: sim-chat, context_window: `+fmt.Sprint(window)+`, chain: [{backend: sim}]}
`)
	st, _ := admin(t, env, "POST", "/a1/agents", `{"name":"diary","model":"sim-chat","system_prompt":"You keep a diary.","compaction":{"keep_last_turns":2}}`)
	if st != 201 {
		t.Fatalf("agent: %d", st)
	}
	id := newSession(t, env, "diary", "")
	planted := "Remember: my locker code is 4417."
	for i := 1; i <= 200; i++ {
		content := fmt.Sprintf("Entry %d: today I walked along the river and watched the boats go by.", i)
		if i == 1 {
			content = planted + " " + content
		}
		st, out := admin(t, env, "POST", "/a1/sessions/"+id+"/messages", `{"content":"`+content+`"}`)
		if st != 200 {
			t.Fatalf("turn %d: %d %s", i, st, out.Raw)
		}
	}
	for i, b := range rec.bodies {
		if est := len(b) / 4; est > window {
			t.Fatalf("upstream request %d takes about %d tokens, over the %d-token window", i, est, window)
		}
	}
	if last := rec.bodies[len(rec.bodies)-1]; !bytes.Contains(last, []byte("locker code is 4417")) {
		t.Fatalf("turn 200 no longer carries the planted fact: %s", last)
	}
	_, lin := admin(t, env, "GET", "/a1/sessions/"+id+"/lineage", "")
	segs := lin.Get("data").Array()
	t.Logf("%d upstream requests, %d segments", len(rec.bodies), len(segs))
	if len(segs) < 3 {
		t.Fatalf("%d segments after 200 turns: it must compact more than once", len(segs))
	}
	var seqs []int64
	var firstUser string
	for _, s := range segs {
		for _, m := range s.Get("messages").Array() {
			seqs = append(seqs, m.Get("seq").Int())
			if firstUser == "" {
				firstUser = m.Get("message.content").Str
			}
		}
		if s.Get("segment").Int() > 1 && (s.Get("summary").Str == "" || !gjson.Valid(s.Get("facts").Raw)) {
			t.Fatalf("segment without a summary: %s", s.Raw)
		}
	}
	if len(seqs) != 400 || !strings.HasPrefix(firstUser, planted) {
		t.Fatalf("lineage holds %d messages, first %q", len(seqs), firstUser)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("lineage message %d has seq %d", i, s)
		}
	}
	// Compaction calls are billed as sub-calls of the turns that needed them.
	subs := 0
	for _, r := range env.Ledger(t, "acme") {
		if r.ParentRequestID != "" && r.Agent == "diary" && r.Ref == id {
			subs++
		}
	}
	if subs != len(segs)-1 {
		t.Fatalf("%d compaction sub-calls for %d compactions", subs, len(segs)-1)
	}
}

// TestCompactOnRequest compacts a session through the endpoint: in-process without
// a job runner (as under Lambda without Redis), and as a session:compact job.
func TestCompactOnRequest(t *testing.T) {
	env := start(t, "")
	id := newSession(t, env, "researcher", "")
	for i := range 5 {
		if st, out := admin(t, env, "POST", "/a1/sessions/"+id+"/messages", fmt.Sprintf(`{"content":"note %d"}`, i)); st != 200 {
			t.Fatalf("turn: %d %s", st, out.Raw)
		}
	}
	st, out := admin(t, env, "POST", "/a1/sessions/"+id+"/compact", "")
	if st != 200 || out.Get("compacted").Bool() != true {
		t.Fatalf("compact without a runner: %d %s", st, out.Raw)
	}
	env.App.LocalJobs.Start()
	for i := range 3 {
		admin(t, env, "POST", "/a1/sessions/"+id+"/messages", fmt.Sprintf(`{"content":"more %d"}`, i))
	}
	if st, out := admin(t, env, "POST", "/a1/sessions/"+id+"/compact", ""); st != 202 || out.Get("status").Str != "queued" {
		t.Fatalf("compact as a job: %d %s", st, out.Raw)
	}
	waitFor(t, func() bool {
		_, s := admin(t, env, "GET", "/a1/sessions/"+id, "")
		return s.Get("segment").Int() == 3
	})
	if _, msgs := admin(t, env, "GET", "/a1/sessions/"+id+"/messages?limit=100", ""); len(msgs.Get("data").Array()) != 16 {
		t.Fatalf("messages after two compactions: %s", msgs.Raw)
	}
	// Times on the wire are unix seconds: the segments' as the session's.
	_, sess := admin(t, env, "GET", "/a1/sessions/"+id, "")
	_, lin := admin(t, env, "GET", "/a1/sessions/"+id+"/lineage", "")
	for _, seg := range lin.Get("data").Array() {
		if at, created := seg.Get("created_at").Int(), sess.Get("created_at").Int(); at < created || at > time.Now().Unix() {
			t.Fatalf("segment %d created at %d; the session at %d, now is %d", seg.Get("segment").Int(), at, created, time.Now().Unix())
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 400 {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}
