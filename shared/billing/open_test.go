package billing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spass/shared/store"
)

// These tests stand in for a gateway killed mid-stream, as journal_test.go does
// for a killed process: a request Begun on a ledger that then dies (die) must be
// billed once, as interrupted, by the next process's replay, and a request whose
// final row was recorded must be billed once with that row.

// started is a stream's start as the chat core journals it: prompt estimated.
func started(id string, prompt int64) store.LedgerRow {
	return store.LedgerRow{TenantID: "acme", UserID: "u", RequestID: id, Route: "chat", Model: "m", Backend: "sim", Tier: 1, PromptTokens: prompt}
}

// final is the same request's row when its stream ends.
func final(id string) store.LedgerRow {
	return store.LedgerRow{TenantID: "acme", UserID: "u", RequestID: id, Route: "chat", Model: "m", Backend: "sim", Tier: 1,
		PromptTokens: 11, CompletionTokens: 22, Status: 200}
}

// byRequest returns the tenant's rows per request id.
func byRequest(t *testing.T, db *store.DB) map[string][]store.LedgerRow {
	t.Helper()
	rows, err := db.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]store.LedgerRow{}
	for _, r := range rows {
		out[r.RequestID] = append(out[r.RequestID], r)
	}
	return out
}

// one returns the single row of id, failing unless there is exactly one.
func one(t *testing.T, rows map[string][]store.LedgerRow, id string) store.LedgerRow {
	t.Helper()
	if len(rows[id]) != 1 {
		t.Fatalf("request %s has %d ledger rows, want exactly 1: %+v", id, len(rows[id]), rows[id])
	}
	return rows[id][0]
}

func wantInterrupted(t *testing.T, r store.LedgerRow, prompt int64) {
	t.Helper()
	if r.Status != InterruptedStatus || !r.Estimated || r.PromptTokens != prompt || r.CompletionTokens != 0 || r.Model != "m" || r.Backend != "sim" || r.UserID != "u" {
		t.Fatalf("interrupted row %+v, want status %d, estimated, %d prompt tokens, 0 completion, model/backend/user kept", r, InterruptedStatus, prompt)
	}
}

func wantFinal(t *testing.T, r store.LedgerRow) {
	t.Helper()
	if r.Status != 200 || r.Estimated || r.PromptTokens != 11 || r.CompletionTokens != 22 {
		t.Fatalf("row %+v, want the final row (200, 11+22 tokens, not estimated)", r)
	}
}

func TestBeginThenRecordBillsTheFinalRowOnce(t *testing.T) {
	db, dir := testDB(t)
	l, err := OpenLedger(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Begin(started("s1", 5)); err != nil {
		t.Fatal(err)
	}
	if n := l.Unsettled(); n != 1 {
		t.Fatalf("%d unsettled after Begin, want 1", n)
	}
	if err := l.Record(final("s1")); err != nil {
		t.Fatal(err)
	}
	if n := l.Unsettled(); n != 0 {
		t.Fatalf("%d unsettled after the final row, want 0", n)
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantFinal(t, one(t, byRequest(t, db), "s1"))
	l.Close()
	l2, _ := reopen(t, db, dir)
	defer l2.Close()
	wantFinal(t, one(t, byRequest(t, db), "s1"))
}

func TestBeginWithoutFinalRowIsBilledInterruptedAfterACrash(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Begin(started("cut", 42))
	l.Begin(started("done", 7))
	l.Record(final("done"))
	l.Record(final("plain")) // never begun: a buffered answer
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Begin(started("cut-late", 9)) // begun after the last commit
	time.Sleep(5 * time.Millisecond)
	l.Record(final("pending")) // recorded, not committed
	die(l)

	l2, _ := reopen(t, db, dir)
	rows := byRequest(t, db)
	wantInterrupted(t, one(t, rows, "cut"), 42)
	wantInterrupted(t, one(t, rows, "cut-late"), 9)
	if r := one(t, rows, "cut-late"); r.LatencyMS < 1 {
		t.Errorf("interrupted latency %d ms, want at least until the journal's last row", r.LatencyMS)
	}
	for _, id := range []string{"done", "plain", "pending"} {
		wantFinal(t, one(t, rows, id))
	}
	if len(rows) != 5 {
		t.Fatalf("%d requests billed, want 5: %v", len(rows), rows)
	}
	l2.Close()
	l3, _ := reopen(t, db, dir) // a second replay finds nothing left
	defer l3.Close()
	if again := byRequest(t, db); len(again) != 5 || len(again["cut"]) != 1 {
		t.Fatalf("after a second start: %v", again)
	}
}

// TestReplayInterruptedRowsOnce covers a replay that dies after its commit,
// before it removes the journal: the next replay must add nothing, neither the
// rows (committed sequence number) nor the interrupted ones (already billed).
func TestReplayInterruptedRowsOnce(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l.Begin(started(fmt.Sprint("cut-", i), int64(i+1)))
	}
	l.Record(final("done"))
	id, seq := l.id, l.seq
	die(l)
	saved := filepath.Join(t.TempDir(), "journal-copy")
	if err := os.CopyFS(saved, os.DirFS(filepath.Join(dir, id))); err != nil {
		t.Fatal(err)
	}

	if _, err := replayDead(context.Background(), db, dir); err != nil {
		t.Fatal(err)
	}
	// As if that replay had died right after its commit: the journal is back,
	// and so is its committed sequence number.
	if err := os.Rename(saved, filepath.Join(dir, id)); err != nil {
		t.Fatal(err)
	}
	if err := db.CommitJournal(context.Background(), nil, id, seq); err != nil {
		t.Fatal(err)
	}
	again, err := replayDead(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("the second replay committed %d rows, want 0: %+v", len(again), again)
	}
	rows := byRequest(t, db)
	for i := range 3 {
		wantInterrupted(t, one(t, rows, fmt.Sprint("cut-", i)), int64(i+1))
	}
	wantFinal(t, one(t, rows, "done"))
}

// TestReplayAsksTheLedgerForFinalRows: a final row whose segment was deleted
// after its commit is not in the journal any more; the start must not be billed
// on top of it.
func TestReplayAsksTheLedgerForFinalRows(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Begin(started("s1", 5))
	if err := db.InsertLedger(context.Background(), []store.LedgerRow{final("s1")}); err != nil {
		t.Fatal(err)
	}
	die(l)
	l2, _ := reopen(t, db, dir)
	defer l2.Close()
	wantFinal(t, one(t, byRequest(t, db), "s1"))
}

// TestLongStreamOutlivesItsSegment: segments are deleted once their rows are
// committed, while a stream begun in one may still run; its start moves to each
// new segment, and only while it is open.
func TestLongStreamOutlivesItsSegment(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.journal.limit = 1024 // a few rows per segment
	l.Begin(started("long", 77))
	l.Begin(started("short", 3))
	for i := range 60 {
		if i == 10 {
			l.Record(final("short"))
		}
		if err := l.Record(testRow(i)); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			if err := l.Sync(context.Background()); err != nil { // deletes committed segments
				t.Fatal(err)
			}
		}
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files, _ := segments(l.journal.dir); len(files) != 1 {
		t.Fatalf("%d segments left after every row was committed, want 1", len(files))
	}
	if n := l.Unsettled(); n != 1 {
		t.Fatalf("%d unsettled, want 1 (long)", n)
	}
	die(l)

	l2, _ := reopen(t, db, dir)
	defer l2.Close()
	rows := byRequest(t, db)
	wantInterrupted(t, one(t, rows, "long"), 77)
	wantFinal(t, one(t, rows, "short"))
	if n := len(rows["req"]); n != 60 {
		t.Fatalf("%d plain rows, want 60", n)
	}
}

// TestCloseBillsOpenRequestsAsInterrupted: Close removes the journal, so what is
// still open is billed then; a row recorded after Close is refused, not doubled.
func TestCloseBillsOpenRequestsAsInterrupted(t *testing.T) {
	db, dir := testDB(t)
	l, err := OpenLedger(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Begin(started("s1", 5))
	l.Close()
	if err := l.Record(final("s1")); err == nil {
		t.Fatal("Record after Close succeeded")
	}
	if err := l.Begin(started("s2", 5)); err == nil {
		t.Fatal("Begin after Close succeeded")
	}
	wantInterrupted(t, one(t, byRequest(t, db), "s1"), 5)
	if js := journals(t, dir); len(js) != 0 {
		t.Fatalf("journals left after Close: %v", js)
	}
}

// TestSettledStartsDoNotAccumulate: a process that serves streams for weeks
// keeps nothing of those that ended.
func TestSettledStartsDoNotAccumulate(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer die(l)
	for i := range 1000 {
		id := fmt.Sprint("s", i)
		l.Begin(started(id, 1))
		l.Record(final(id))
	}
	if n := l.Unsettled(); n != 0 {
		t.Fatalf("%d starts kept after their final rows, want 0", n)
	}
	if err := l.Begin(store.LedgerRow{TenantID: "acme"}); err == nil {
		t.Fatal("Begin without a request id succeeded: nothing could settle it")
	}
}

// TestReplayedRowsReachOnCommit: the metrics count what a replay commits, the
// interrupted rows included, at the new process's first commit.
func TestReplayedRowsReachOnCommit(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Begin(started("cut", 4))
	l.Record(final("done"))
	die(l)

	l2, err := OpenLedger(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	var got []store.LedgerRow
	l2.OnCommit = func(rows []store.LedgerRow) { got = append(got, rows...) }
	l2.Record(final("next"))
	if err := l2.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	estimated := 0
	for _, r := range got {
		if r.Estimated {
			estimated++
		}
	}
	if len(got) != 3 || estimated != 1 {
		t.Fatalf("OnCommit saw %d rows, %d estimated; want 3 (replayed done and cut, then next), 1 estimated", len(got), estimated)
	}
}
