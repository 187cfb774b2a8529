package billing

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"spass/shared/store"
)

// maxBatch bounds one group commit.
const maxBatch = 512

// Ledger writes ledger rows through one goroutine that batches whatever is waiting
// into a single transaction (group commit): under load, hundreds of requests share
// one commit instead of queueing for the single SQLite writer one by one.
type Ledger struct {
	db   *store.DB
	ch   chan pending
	stop chan struct{}
	done sync.WaitGroup
	// OnWrite, if set, is told how many rows each commit wrote (metrics).
	OnWrite func(rows int)
}

type pending struct {
	row  store.LedgerRow
	done chan error
}

// NewLedger starts the writer; Close stops it after draining.
func NewLedger(db *store.DB) *Ledger {
	l := &Ledger{db: db, ch: make(chan pending, 4096), stop: make(chan struct{})}
	l.done.Add(1)
	go l.run()
	return l
}

// Record stores row and returns once it is committed. The wait is what makes a
// response imply its ledger row; ctx is not used to abandon the write, since a
// client that leaves must still be billed.
func (l *Ledger) Record(row store.LedgerRow) error {
	if row.CreatedAt == 0 {
		row.CreatedAt = time.Now().UnixMilli()
	}
	p := pending{row: row, done: make(chan error, 1)}
	l.ch <- p
	return <-p.done
}

func (l *Ledger) run() {
	defer l.done.Done()
	batch := make([]pending, 0, maxBatch)
	rows := make([]store.LedgerRow, 0, maxBatch)
	for {
		select {
		case p := <-l.ch:
			batch = append(batch[:0], p)
		case <-l.stop:
			for {
				select {
				case p := <-l.ch:
					l.commit([]pending{p}, rows[:0])
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-l.ch:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		l.commit(batch, rows[:0])
	}
}

func (l *Ledger) commit(batch []pending, rows []store.LedgerRow) {
	for _, p := range batch {
		rows = append(rows, p.row)
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = l.db.InsertLedger(context.Background(), rows); err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	if err != nil {
		slog.Error("ledger write failed", "rows", len(rows), "err", err)
	} else if l.OnWrite != nil {
		l.OnWrite(len(rows))
	}
	for _, p := range batch {
		p.done <- err
	}
}

// Close drains pending rows and stops the writer.
func (l *Ledger) Close() {
	close(l.stop)
	l.done.Wait()
}
