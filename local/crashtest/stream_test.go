package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"spass/local/proctest"
	"spass/local/simulator"
	"spass/shared/billing"
	"spass/shared/store"
)

// A stream cut by the gateway dying is billed once, as interrupted, with its usage
// estimated: its start is journaled (billing.Ledger.Begin) before the client gets
// the first byte, and the next start replays it. Two tests: one kills a process
// that drives the ledger directly, so the journal is tested under a real SIGKILL
// today; one kills the gateway mid-stream, once the chat core calls Begin.

// ledgerChild, in the environment, makes TestLedgerChild the process to kill,
// writing its ledger under the directory it names.
const ledgerChild = "SPASS_CRASHTEST_LEDGER_CHILD"

// streamPrompt is the prompt a begun stream is billed for if it is cut.
const streamPrompt = 100

// TestLedgerChild runs only as TestKill9MidStreamBillsEveryBegunRequestOnce's
// child: eight workers begin a stream, say so, "stream" for up to 30 ms, record
// its final row and say so, with a buffered answer (no Begin) every third
// request; until killed.
func TestLedgerChild(t *testing.T) {
	dir := os.Getenv(ledgerChild)
	if dir == "" {
		t.Skip("the child process of TestKill9MidStreamBillsEveryBegunRequestOnce")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := billing.OpenLedger(ctx, db, filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	say := func(verb, id string) { // one write per line: the parent reads what got out
		mu.Lock()
		fmt.Fprintf(os.Stdout, "%s %s\n", verb, id)
		mu.Unlock()
	}
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				row := store.LedgerRow{TenantID: "acme", UserID: "u", RequestID: id, Route: "chat", Model: "m", PromptTokens: streamPrompt}
				if i%3 == 0 {
					row.CompletionTokens, row.Status = 5, 200
					if l.Record(row) == nil {
						say("answered", id)
					}
					continue
				}
				if err := l.Begin(row); err != nil {
					panic(err)
				}
				say("begun", id)
				time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
				row.CompletionTokens, row.Status = 50, 200
				if l.Record(row) == nil {
					say("settled", id)
				}
			}
		}()
	}
	select {} // until SIGKILL
}

func TestKill9MidStreamBillsEveryBegunRequestOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process")
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestLedgerChild$")
	child.Env = append(os.Environ(), ledgerChild+"="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{"begun": {}, "settled": {}, "answered": {}}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		verb, id, _ := strings.Cut(sc.Text(), " ")
		if seen[verb] != nil {
			seen[verb][id] = true
		}
		if !killed && len(seen["settled"]) >= 300 && len(seen["begun"]) > len(seen["settled"]) {
			child.Process.Kill() // SIGKILL with streams in flight; read what it wrote before
			killed = true
		}
	}
	child.Wait()
	if !killed {
		t.Fatalf("the child ended before the kill: %d begun, %d settled", len(seen["begun"]), len(seen["settled"]))
	}

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for replay := range 2 { // the next start replays; the one after adds nothing
		l, err := billing.OpenLedger(ctx, db, filepath.Join(dir, "journal"))
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		rows, err := db.LedgerRows(ctx, "acme", 0, time.Now().Add(time.Hour).UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]store.LedgerRow{}
		for _, r := range rows {
			if _, twice := byID[r.RequestID]; twice {
				t.Fatalf("start %d: request %s billed twice", replay+1, r.RequestID)
			}
			byID[r.RequestID] = r
		}
		interrupted := 0
		for id := range seen["begun"] {
			r, ok := byID[id]
			switch {
			case !ok:
				t.Fatalf("start %d: begun stream %s has no ledger row", replay+1, id)
			case r.Status == 200 && !r.Estimated && r.CompletionTokens == 50:
				// settled, perhaps just before the kill took its "settled" line
			case seen["settled"][id]:
				t.Fatalf("start %d: settled stream %s billed as %+v, want its final row", replay+1, id, r)
			case r.Status == billing.InterruptedStatus && r.Estimated && r.PromptTokens == streamPrompt && r.CompletionTokens == 0:
				interrupted++
			default:
				t.Fatalf("start %d: cut stream %s billed as %+v, want interrupted and estimated", replay+1, id, r)
			}
		}
		for id := range seen["answered"] {
			if _, ok := byID[id]; !ok {
				t.Fatalf("start %d: answered request %s has no ledger row", replay+1, id)
			}
		}
		if interrupted == 0 {
			t.Fatalf("start %d: no stream was cut by the kill; the test did not test it", replay+1)
		}
		if replay == 0 {
			t.Logf("%d streams begun, %d settled, %d answered, %d billed as interrupted, %d ledger rows",
				len(seen["begun"]), len(seen["settled"]), len(seen["answered"]), interrupted, len(rows))
		}
	}
	if v, err := db.IntegrityCheck(ctx); v != "ok" || err != nil {
		t.Fatalf("integrity_check: %q %v", v, err)
	}
}

// TestKill9MidStreamBillsEveryStartedStream kills the gateway while slow streams
// are relayed: every stream whose response headers reached the client has
// exactly one ledger row after the restart, complete ones their final row, cut
// ones an interrupted, estimated one.
func TestKill9MidStreamBillsEveryStartedStream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the gateway binary")
	}
	bin, cfg, data, addr := setup(t, simulator.Options{TokenDelay: 10 * time.Millisecond})
	gw := start(t, bin, cfg, data, addr)
	var mu sync.Mutex
	started, complete := map[string]bool{}, map[string]bool{}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				stream(ctx, addr, func(id string, done bool) {
					mu.Lock()
					started[id] = true
					if done {
						complete[id] = true
					}
					mu.Unlock()
				})
			}
		})
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n, c := len(started), len(complete)
		mu.Unlock()
		if n >= 60 && n > c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute %d streams started, %d complete: want 60 and some in flight", n, c)
		}
	}
	proctest.Kill(gw)
	stop()
	wg.Wait()

	_, rows := restart(t, bin, cfg, data, addr)
	byID := map[string]store.LedgerRow{}
	for _, r := range rows {
		if _, twice := byID[r.RequestID]; twice {
			t.Fatalf("request %s billed twice", r.RequestID)
		}
		byID[r.RequestID] = r
	}
	interrupted := 0
	for id := range started {
		r, ok := byID[id]
		switch {
		case !ok:
			t.Fatalf("stream %s reached the client and has no ledger row", id)
		case complete[id] && r.Status != 200:
			t.Fatalf("complete stream %s billed as %+v", id, r)
		case !complete[id] && r.Status == billing.InterruptedStatus:
			if !r.Estimated || r.PromptTokens == 0 {
				t.Fatalf("interrupted stream %s billed as %+v, want estimated prompt tokens", id, r)
			}
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Fatal("no stream was cut by the kill; the test did not test it")
	}
	t.Logf("%d streams started, %d complete, %d billed as interrupted", len(started), len(complete), interrupted)
}

// stream sends one slow streamed chat and reports its request id once the
// response headers arrived (the stream is committed: Begin has run), and again
// with done once [DONE] arrived.
func stream(ctx context.Context, addr string, report func(id string, done bool)) {
	words := strings.Repeat("tell me more ", 10)
	body := fmt.Sprintf(`{"model":"sim-chat","messages":[{"role":"user","content":%q}],"stream":true}`, words)
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("SPASS-User-Id", "u")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	id := resp.Header.Get("SPASS-Request-Id")
	if resp.StatusCode != 200 || id == "" {
		return
	}
	report(id, false)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "data: [DONE]" {
			report(id, true)
		}
	}
}
