package billing

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"spass/shared/store"
)

// The tests here stand in for a process that dies: a Ledger whose writer never
// runs (openJournal) appends rows to its journal and is then abandoned without
// Close, its lock released the way the kernel releases a killed process's. The
// next OpenLedger must bill each row once.

func testDB(t *testing.T) (*store.DB, string) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, filepath.Join(dir, "journal")
}

func testRow(i int) store.LedgerRow {
	return store.LedgerRow{TenantID: "acme", RequestID: "req", Route: "chat", Model: "m", PromptTokens: int64(i), Status: 200}
}

// crashed records n rows on a ledger whose writer is stopped, then drops it
// without committing, as a killed process would.
func crashed(t *testing.T, db *store.DB, dir string, from, n int) {
	t.Helper()
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := from; i < from+n; i++ {
		wg.Go(func() {
			if err := l.Record(testRow(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	die(l)
}

// die abandons l as a killed process would: files closed, nothing committed or
// removed.
func die(l *Ledger) {
	l.journal.close() // the kernel keeps the mapped pages, as for a killed process
	l.lock.Close()
}

// journals lists the journal directories under root.
func journals(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// reopen opens the ledger as the next process start does and returns it with the
// ledger's rows, PromptTokens counted per value.
func reopen(t *testing.T, db *store.DB, dir string) (*Ledger, map[int64]int) {
	t.Helper()
	l, err := OpenLedger(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for _, r := range rows {
		seen[r.PromptTokens]++
	}
	return l, seen
}

func wantEach(t *testing.T, seen map[int64]int, n int) {
	t.Helper()
	if len(seen) != n {
		t.Fatalf("%d distinct rows, want %d", len(seen), n)
	}
	for v, c := range seen {
		if c != 1 || v < 0 || v >= int64(n) {
			t.Fatalf("row %d stored %d times (want once each of 0..%d)", v, c, n-1)
		}
	}
}

func TestReplayBillsUncommittedRowsAfterACrash(t *testing.T) {
	db, dir := testDB(t)
	crashed(t, db, dir, 0, 50)
	if rows, _ := db.LedgerRows(context.Background(), "acme", 0, 1<<62); len(rows) != 0 {
		t.Fatalf("%d rows committed before replay; the writer was stopped", len(rows))
	}
	l, seen := reopen(t, db, dir)
	defer l.Close()
	wantEach(t, seen, 50)
	if js := journals(t, dir); len(js) != 1 || js[0] != l.id {
		t.Fatalf("journals %v after the replay, want only the new process's %s", js, l.id)
	}
}

// TestLiveJournalIsNotReplayed: a second process on the same data dir (workers,
// another gateway) must leave a running process's journal alone.
func TestLiveJournalIsNotReplayed(t *testing.T) {
	db, dir := testDB(t)
	live, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		live.Record(testRow(i))
	}
	other, seen := reopen(t, db, dir)
	if len(seen) != 0 {
		t.Fatalf("another process replayed a live journal: %v", seen)
	}
	other.Close()
	if err := live.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	die(live)
	l, seen := reopen(t, db, dir)
	defer l.Close()
	wantEach(t, seen, 3)
}

// TestReplaySkipsRowsAlreadyCommitted covers a crash between the commit and the
// segment's removal, and sequence numbers continuing across restarts.
func TestReplaySkipsRowsAlreadyCommitted(t *testing.T) {
	db, dir := testDB(t)
	l, err := openJournal(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		l.Record(testRow(i))
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	die(l) // committed, but the segment is still there

	l2, seen := reopen(t, db, dir)
	wantEach(t, seen, 10)
	l2.Close()

	crashed(t, db, dir, 10, 5) // a later process appends and dies
	l3, seen := reopen(t, db, dir)
	defer l3.Close()
	wantEach(t, seen, 15)
}

func TestReplaySkipsATornLine(t *testing.T) {
	db, dir := testDB(t)
	crashed(t, db, dir, 0, 3)
	js := journals(t, dir)
	if len(js) != 1 {
		t.Fatalf("journals %v, want one", js)
	}
	files, _ := segments(filepath.Join(dir, js[0]))
	if len(files) != 1 {
		t.Fatalf("segments %v, want one", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(files[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A power cut mid-row: a line cut short, zeros after it.
	f.WriteAt([]byte(`{"Seq":4,"Row":{"TenantID":"ac`), int64(bytes.IndexByte(data, 0)))
	f.Close()
	l, seen := reopen(t, db, dir)
	defer l.Close()
	wantEach(t, seen, 3)
}

// TestCommittedSegmentsAreRemoved keeps the journal from growing: a full segment
// is deleted once all its rows are in SQLite.
func TestCommittedSegmentsAreRemoved(t *testing.T) {
	db, dir := testDB(t)
	l, err := OpenLedger(context.Background(), db, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.journal.limit = 512 // a couple of rows per segment
	l.mu.Unlock()
	for i := range 40 {
		if err := l.Record(testRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files, _ := segments(l.journal.dir); len(files) != 1 {
		t.Fatalf("%d segments after every row was committed, want only the current one", len(files))
	}
	l.Close()
	if js := journals(t, dir); len(js) != 0 {
		t.Fatalf("journals left after Close: %v", js)
	}
	l2, seen := reopen(t, db, dir)
	defer l2.Close()
	wantEach(t, seen, 40)
}
