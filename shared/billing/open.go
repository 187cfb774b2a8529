package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"spass/shared/apierr"
	"spass/shared/store"
)

// A streamed answer's final row is written when the stream ends. A gateway killed
// in the middle of a stream never writes it, and the client would have been served
// for free. So the chat core calls Begin when a stream is committed to the client:
// one journal append (no SQLite write), which the request's final row settles.
// Whatever was begun and never settled becomes, when the dead process's journal is
// replayed, an interrupted row with the usage estimated at Begin.

// InterruptedStatus is the status of a request whose stream the gateway itself cut
// by dying: the catalog's stream_interrupted (502), the status of a stream cut on
// the serving side (a backend that broke off). Not 499: that says the client went
// away and chose to stop, which it did not; a 5xx says the fault was ours, and the
// ledger can tell crash-cut streams from client-cut ones.
var InterruptedStatus = apierr.Lookup(apierr.StreamInterrupted).Status

// openKey names a request begun and not yet settled. The final row of the same
// tenant and request id settles it; sub-calls (tool rounds, images) have ids of
// their own and do not.
type openKey struct{ tenant, request string }

func keyOf(r *store.LedgerRow) openKey { return openKey{r.TenantID, r.RequestID} }

// Begin makes row, a request's start, durable in the journal and returns. If this
// process dies before the request's final row is recorded (Record, same tenant and
// request id), the replay bills row as interrupted: status InterruptedStatus,
// usage estimated (the tokens given here), latency until the journal's last
// activity. Recording the final row settles it, so a request is billed once
// either way, and nothing of it stays in memory.
//
// Call it once per request, after the last chance to fall back and before the
// first byte of a stream reaches the client, with the prompt estimated.
func (l *Ledger) Begin(row store.LedgerRow) error {
	if row.RequestID == "" {
		return errors.New("ledger: Begin needs a request id to settle it by")
	}
	if row.CreatedAt == 0 {
		row.CreatedAt = time.Now().UnixMilli()
	}
	row.Status, row.Estimated = InterruptedStatus, true // what it is billed as unless settled
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	l.seq++
	err := l.journal.begin(keyOf(&row), entry{Seq: l.seq, Open: true, Row: row})
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("ledger journal: %w", err)
	}
	return nil
}

// Unsettled reports how many requests are begun and not settled in this process.
func (l *Ledger) Unsettled() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.journal.opens)
}

// interruptOpen bills every request still open as interrupted and closes the
// ledger to new rows, in one step under l.mu, for Close: the journal is removed
// after the last commit, and with it the starts a replay would bill. A request
// that finishes first is settled by its own row; one that finishes later finds
// the ledger closed. Either way it is billed once.
func (l *Ledger) interruptOpen() {
	now := time.Now().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if n := len(l.journal.opens); n > 0 {
		slog.Warn("ledger closed with requests still streaming; billed as interrupted", "requests", n)
	}
	for _, line := range l.journal.opens { // record deletes from it: allowed in a range
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			continue // not possible: the line was encoded from an entry
		}
		if err := l.record(interrupted(e.Row, now)); err != nil {
			slog.Error("ledger: billing an open request at close", "request_id", e.Row.RequestID, "err", err)
		}
	}
}

// interrupted turns a request's start into its final row: the process that
// served it was last seen alive at lastSeen (unix ms), so the stream lasted at
// least until then.
func interrupted(r store.LedgerRow, lastSeen int64) store.LedgerRow {
	r.Status, r.Estimated = InterruptedStatus, true
	r.LatencyMS = max(r.LatencyMS, lastSeen-r.CreatedAt, 0)
	return r
}

// interruptedRows returns the interrupted rows of a dead process's journal: one per
// request begun in entries with no final row in entries nor in the ledger. The
// ledger is asked because a final row's segment is deleted once committed, and
// because a replay that crashed before removing the journal has already
// inserted the interrupted rows; both keep a request from being billed twice.
func interruptedRows(ctx context.Context, db *store.DB, entries []entry) ([]store.LedgerRow, error) {
	open := map[openKey]store.LedgerRow{}
	var order []openKey // the order of their starts, for stable row ids
	var lastSeen int64
	for _, e := range entries {
		lastSeen = max(lastSeen, e.Row.CreatedAt)
		if k := keyOf(&e.Row); e.Open {
			if _, copied := open[k]; !copied { // a copy carried into a later segment
				order = append(order, k)
			}
			open[k] = e.Row
		}
	}
	if len(open) == 0 {
		return nil, nil
	}
	for _, e := range entries {
		if !e.Open {
			delete(open, keyOf(&e.Row))
		}
	}
	var rows []store.LedgerRow
	for _, k := range order {
		r, ok := open[k]
		if !ok {
			continue
		}
		billed, err := db.LedgerHasRequest(ctx, k.tenant, k.request)
		if err != nil {
			return nil, err
		}
		if !billed {
			rows = append(rows, interrupted(r, lastSeen))
		}
	}
	return rows, nil
}
