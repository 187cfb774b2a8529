package gatewaytest

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"spass/shared/store"
	"spass/shared/web"
)

// Answer is one response the gateway sent, as its client saw the head of it.
type Answer struct {
	Method, Path string
	Status       int
	RequestID    string // the SPASS-Request-Id header
	ContentType  string
	// RowsWhenAnswered counts a bundle's ledger rows of a billed answer's request
	// id as soon as its response ended, which is when its invocation ended; -1
	// when not counted (in-process, where rows are committed in batches).
	RowsWhenAnswered int
}

// answers records every response of a handler, for CheckLedger.
type answers struct {
	mu   sync.Mutex
	list []Answer
	// rows, when set, counts the committed ledger rows of a request id.
	rows func(requestID string) int
}

// record wraps h so that each response it writes is listed. A response whose
// handler panics (a stream cut on purpose) is not an answer and is not listed.
func (a *answers) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recordingWriter{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		rw.note(http.StatusOK) // what net/http sends for a handler that wrote nothing
		ans := Answer{Method: r.Method, Path: r.URL.Path, Status: rw.status, RequestID: rw.id, ContentType: rw.typ, RowsWhenAnswered: -1}
		if a.rows != nil && ans.billed() {
			ans.RowsWhenAnswered = a.rows(ans.RequestID)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.list = append(a.list, ans)
	})
}

// recordingWriter notes the status and the request id when the head is written.
type recordingWriter struct {
	http.ResponseWriter
	status  int
	id, typ string
}

// note keeps the head of the response the first time it is written.
func (w *recordingWriter) note(code int) {
	if w.status != 0 || code < 200 {
		return
	}
	h := w.Header()
	w.status, w.typ = code, h.Get("Content-Type")
	// The gateway sets its header as spelled, not in canonical form (a map
	// write, no allocation); the emulator through Header().Set.
	if v := h[web.RequestIDHeader]; len(v) > 0 {
		w.id = v[0]
	} else {
		w.id = h.Get(web.RequestIDHeader)
	}
}

func (w *recordingWriter) WriteHeader(code int) {
	w.note(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.note(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// Flush keeps streams flowing: SSE handlers assert http.Flusher.
func (w *recordingWriter) Flush() {
	w.note(http.StatusOK)
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer (full duplex,
// read deadlines).
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Answers returns the responses the gateway has sent so far, in the order
// their handlers returned.
func (e *Env) Answers() []Answer {
	e.answers.mu.Lock()
	defer e.answers.mu.Unlock()
	return slices.Clone(e.answers.list)
}

// CheckStreams fails the test if a bundle (StartBundle) answered SSE on a route
// it serves as an HTTP API route, which buffers: on AWS that stream would reach
// its client only at its end. Such a route belongs in the function's Streamed
// list (local/lambda's Functions). In-process, every route streams.
func (e *Env) CheckStreams(t testing.TB) {
	t.Helper()
	if e.buffered == nil {
		return
	}
	for _, a := range e.Answers() {
		if !strings.HasPrefix(a.ContentType, "text/event-stream") {
			continue
		}
		req, err := http.NewRequest(a.Method, a.Path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, pattern := e.buffered.Handler(req); pattern != "" {
			t.Errorf("%s %s answered SSE through the HTTP API route %q, which buffers; it must stream through the Function URL", a.Method, a.Path, pattern)
		}
	}
}

// billedRoutes are the routes whose every answer has a ledger row under its own
// request id: inference of each kind. Tool rounds and batch lines have rows of
// their own ids, linked by parent_request_id.
var billedRoutes = []string{
	"POST /v1/chat/completions", "POST /v1/embeddings", "POST /v1/responses",
	"POST /v1/audio/transcriptions", "POST /v1/audio/speech", "POST /v1/moderations",
	"POST /v1/rerank", "POST /v1/images/generations",
}

// CheckLedger checks the ledger against the answers sent so far: every 2xx
// answer of a billed route has exactly one row under its request id, across the
// test tenants, and no request id has more than one row. For a bundle it stops
// the functions first, and each such answer's row must also have been committed
// when its response ended: a Lambda sandbox is frozen when its invocation
// returns and may never run again, so a row left to a background writer is
// lost (the emulator neither freezes nor kills idle instances, and stopping
// them lets them commit). The Env serves no requests afterwards. It returns how
// many answers it found billed.
func (e *Env) CheckLedger(t testing.TB) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := e.ledgerStore(t, ctx)
	rows := map[string]int{}
	for _, tenant := range []string{Tenant, OtherTenant} {
		list, err := db.LedgerRows(ctx, tenant, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			rows[r.RequestID]++
		}
	}
	for id, n := range rows {
		if n > 1 {
			t.Errorf("request %s has %d ledger rows, want at most 1", id, n)
		}
	}
	billed := 0
	for _, a := range e.Answers() {
		if !a.billed() {
			continue
		}
		if n := rows[a.RequestID]; a.RequestID == "" || n != 1 {
			t.Errorf("%s %s answered %d as %q, which has %d ledger rows, want 1", a.Method, a.Path, a.Status, a.RequestID, n)
			continue
		}
		if a.RowsWhenAnswered == 0 {
			t.Errorf("%s %s answered %d as %q before its ledger row was committed: a frozen sandbox would lose it", a.Method, a.Path, a.Status, a.RequestID)
			continue
		}
		billed++
	}
	return billed
}

// billed reports whether a has a ledger row of its own: a 2xx answer of a
// billed route.
func (a Answer) billed() bool {
	return a.Status >= 200 && a.Status <= 299 && slices.Contains(billedRoutes, a.Method+" "+a.Path)
}

// ledgerStore is the store holding the ledger, with every row recorded so far
// committed: the app's own in-process; for a bundle, its database once the
// functions are stopped.
func (e *Env) ledgerStore(t testing.TB, ctx context.Context) *store.DB {
	t.Helper()
	if e.App != nil {
		if err := e.App.SyncLedger(ctx); err != nil {
			t.Fatal(err)
		}
		return e.App.Store
	}
	e.stop()
	return e.db
}
