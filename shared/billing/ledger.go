package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"spass/shared/store"
)

// linger is how long the writer lets rows gather before it commits them: at 500
// requests/s that is one SQLite transaction per 50 rows. Each commit costs CPU on
// the same cores the requests use (measured: about 60 µs per request at 20 ms,
// 15 µs at 100 ms); nobody waits for it.
const linger = 100 * time.Millisecond

// Ledger makes each ledger row durable before its request's response ends, at the
// cost of copying it into this process's memory-mapped journal, and commits the
// rows to SQLite in batches from one goroutine, off the request path. A SQLite
// commit per request (even grouped) cost the request its wait for the writer.
//
// When a process starts, OpenLedger replays the journals of processes that died
// (see journaldir.go): rows past each journal's last committed sequence number are
// inserted, so every answered request is billed exactly once. Readers that must
// see every row so far (the usage API) call Sync first.
type Ledger struct {
	db *store.DB
	id string // this process's journal
	// OnCommit, if set (before the first Record), receives the rows of each
	// commit (metrics), from the writer goroutine: counting them costs the
	// requests nothing. The slice is reused after the call returns. Rows replayed from dead processes' journals are
	// included: at the first commit those replayed at start, the others as
	// they are replayed. Calls never overlap.
	OnCommit func(rows []store.LedgerRow)
	replayed []store.LedgerRow // replayed by OpenLedger, not yet reported; guarded by flushMu

	mu      sync.Mutex // guards seq, journal, pending and closed
	seq     int64      // last sequence number appended
	closed  bool       // Close has billed the open requests: no more rows
	journal journal
	lock    *os.File          // held while the process lives
	pending []store.LedgerRow // appended, not yet committed: the last one is seq
	// spare is the array of the last committed batch, emptied: the next batch
	// fills it instead of growing a new one row by row (at 1000 requests a
	// second, 25 KB copied and dropped per commit).
	spare []store.LedgerRow

	flushMu sync.Mutex // one commit at a time, from the writer or Sync
	kick    chan struct{}
	stop    chan struct{}
	done    sync.WaitGroup
}

// OpenLedger starts this process's journal under root (the data dir's journal/),
// replays the journals of dead processes there, then starts the writer. Close
// stops it after committing everything.
func OpenLedger(ctx context.Context, db *store.DB, root string) (*Ledger, error) {
	l, err := openJournal(ctx, db, root)
	if err != nil {
		return nil, err
	}
	l.done.Add(2)
	go l.run()
	go l.adopt(filepath.Dir(l.journal.dir))
	return l, nil
}

// adoptEvery is how often a running process looks for journals of processes that
// died without being restarted (a crashed second gateway, say).
const adoptEvery = time.Minute

// adopt replays dead processes' journals under root every adoptEvery.
func (l *Ledger) adopt(root string) {
	defer l.done.Done()
	t := time.NewTicker(adoptEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			rows, err := replayDead(context.Background(), l.db, root)
			if err != nil {
				slog.Error("ledger journal replay failed", "err", err)
			}
			l.flushMu.Lock()
			l.report(rows)
			l.flushMu.Unlock()
		case <-l.stop:
			return
		}
	}
}

// openJournal does OpenLedger's work except starting the writer and adopter, so
// tests can stand in for a process that dies.
func openJournal(ctx context.Context, db *store.DB, root string) (*Ledger, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("ledger journal: %w", err)
	}
	id, dir, lock, err := newJournalDir(root)
	if err != nil {
		return nil, fmt.Errorf("ledger journal: %w", err)
	}
	replayed, err := replayDead(ctx, db, root)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Ledger{db: db, id: id, lock: lock, journal: journal{dir: dir, limit: segmentBytes},
		replayed: replayed, kick: make(chan struct{}, 1), stop: make(chan struct{})}, nil
}

// Record makes row durable and returns; the writer commits it to SQLite within
// about linger. The error says the journal append failed: the row is still
// committed, but a crash before that would lose it. After Close it records
// nothing: Close has billed what was still open.
func (l *Ledger) Record(row store.LedgerRow) error {
	if row.CreatedAt == 0 {
		row.CreatedAt = time.Now().UnixMilli()
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	err := l.record(row)
	l.mu.Unlock()
	l.wake()
	if err != nil {
		return fmt.Errorf("ledger journal: %w", err)
	}
	return nil
}

var errClosed = errors.New("ledger: closed")

// record appends row to the journal and the pending rows, settling its request
// if it was begun. The caller holds l.mu.
func (l *Ledger) record(row store.LedgerRow) error {
	l.journal.settle(keyOf(&row))
	l.seq++
	err := l.journal.append(entry{Seq: l.seq, Row: row})
	l.pending = append(l.pending, row)
	return err
}

// wake tells the writer rows are pending, without waiting.
func (l *Ledger) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Sync commits every row recorded so far to SQLite.
func (l *Ledger) Sync(ctx context.Context) error {
	return l.flush(ctx)
}

func (l *Ledger) run() {
	defer l.done.Done()
	backoff := time.Duration(0)
	for {
		select {
		case <-l.kick:
		case <-l.stop:
			l.flush(context.Background())
			return
		}
		wait := time.NewTimer(linger + backoff)
		select {
		case <-wait.C:
		case <-l.stop:
			wait.Stop()
		}
		if err := l.flush(context.Background()); err != nil {
			slog.Error("ledger commit failed; rows stay in the journal", "err", err)
			backoff = min(max(2*backoff, 50*time.Millisecond), 5*time.Second)
			l.wake() // the rows are still pending: try again
			continue
		}
		backoff = 0
	}
}

// flush commits the pending rows in one transaction and deletes the journal
// segments that hold nothing uncommitted any more. On failure the rows stay
// pending (and in the journal) for the next attempt.
func (l *Ledger) flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	rows, seq := l.pending, l.seq
	l.pending, l.spare = l.spare, nil
	l.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	if err := l.db.CommitJournal(ctx, rows, l.id, seq); err != nil {
		l.mu.Lock()
		l.pending = append(rows, l.pending...)
		l.mu.Unlock()
		return err
	}
	l.report(rows)
	clear(rows) // drop the strings they hold
	l.mu.Lock()
	l.spare = rows[:0]
	done := l.journal.committed(seq)
	ahead := l.journal.ahead()
	l.mu.Unlock()
	for _, f := range done {
		os.Remove(f)
	}
	prepare(ahead) // under flushMu: no segment is unmapped meanwhile
	return nil
}

// report hands committed rows to OnCommit, preceded by those replayed at start.
// The caller holds flushMu.
func (l *Ledger) report(rows []store.LedgerRow) {
	if l.OnCommit != nil {
		if len(l.replayed) > 0 {
			l.OnCommit(l.replayed)
		}
		if len(rows) > 0 {
			l.OnCommit(rows)
		}
	}
	l.replayed = nil
}

// Close bills the requests still open as interrupted, commits what is pending,
// stops the writer and, when everything is committed, removes the journal.
func (l *Ledger) Close() {
	close(l.stop)
	l.done.Wait()
	l.interruptOpen()
	err := l.flush(context.Background())
	l.mu.Lock()
	l.journal.close()
	l.mu.Unlock()
	if err != nil {
		// Keep the journal; the lock goes with the process, and the next start
		// replays it.
		slog.Error("ledger commit at close failed; the journal is replayed at the next start", "err", err)
		return
	}
	os.RemoveAll(l.journal.dir)
	l.db.ForgetJournal(context.Background(), l.id)
	l.lock.Close()
}
