package gatewaytest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"spass/shared/store"
)

// errorsOf keeps a check's errors instead of failing the test.
type errorsOf struct {
	testing.TB
	errs []string
}

func (e *errorsOf) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// TestCheckLedger: the recorder lists each answer with its status, request id and
// content type, streams included; CheckLedger counts the billed ones, and
// reports an answer without its row and a request id with two.
func TestCheckLedger(t *testing.T) {
	env := Start(t, Setup{})
	send := func(method, path, body string, want int) {
		t.Helper()
		resp := Do(t, env.Request(t, method, path, body))
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	send("POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}`, http.StatusOK)
	send("POST", "/v1/chat/completions", `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`, http.StatusOK)
	send("POST", "/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`, http.StatusNotFound)
	send("GET", "/v1/models", "", http.StatusOK)

	got := env.Answers()
	if len(got) != 4 {
		t.Fatalf("answers %+v, want 4", got)
	}
	for i, a := range got {
		if !strings.HasPrefix(a.RequestID, "req_") || a.RowsWhenAnswered != -1 {
			t.Errorf("answer %d: %+v", i, a)
		}
	}
	if got[1].ContentType != "text/event-stream" || got[2].Status != http.StatusNotFound || got[3].Path != "/v1/models" {
		t.Errorf("answers %+v", got)
	}
	if n := env.CheckLedger(t); n != 2 {
		t.Errorf("CheckLedger counted %d billed answers, want the 2 chats", n)
	}

	// An answer whose request has no row (as if its row were lost), and a
	// request with a second row.
	env.answers.list = append(env.answers.list, Answer{Method: "POST", Path: "/v1/embeddings", Status: http.StatusOK, RequestID: "req_lost", RowsWhenAnswered: -1})
	row := env.Ledger(t, Tenant)[0]
	row.ID = 0
	if err := env.App.Store.InsertLedger(t.Context(), []store.LedgerRow{row}); err != nil {
		t.Fatal(err)
	}
	check := &errorsOf{TB: t}
	env.CheckLedger(check)
	if len(check.errs) != 3 || !strings.Contains(strings.Join(check.errs, "\n"), "req_lost") {
		t.Errorf("CheckLedger reported:\n%s\nwant the lost row and the doubled one (twice: its id and its answer)", strings.Join(check.errs, "\n"))
	}
}
