package billing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"spass/shared/store"
)

// Each process that bills (the gateway, the workers, every Lambda function, a
// second gateway on the same host) writes its own journal directory under the
// data dir's journal/, and holds an exclusive flock on the directory's lock file
// while it lives. The kernel drops the lock when the process dies, however it
// dies, so a directory whose lock can be taken belongs to a dead process and is
// replayed; a live process's journal is never touched.

const lockName = "lock"

// tmpPrefix marks a journal directory being created: it is renamed to its final
// name only once locked, so no other process can mistake it for a dead one.
const tmpPrefix = "tmp-"

// newJournalDir creates and locks this process's journal directory under root.
func newJournalDir(root string) (id, dir string, lock *os.File, err error) {
	var b [6]byte
	rand.Read(b[:])
	id = fmt.Sprintf("%s-%d-%s", time.Now().UTC().Format("20060102T150405"), os.Getpid(), hex.EncodeToString(b[:]))
	tmp := filepath.Join(root, tmpPrefix+id)
	if err = os.MkdirAll(tmp, 0o700); err != nil {
		return "", "", nil, err
	}
	if lock, err = os.OpenFile(filepath.Join(tmp, lockName), os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return "", "", nil, err
	}
	if err = tryLock(lock); err != nil {
		lock.Close()
		return "", "", nil, err
	}
	dir = filepath.Join(root, id)
	if err = os.Rename(tmp, dir); err != nil {
		lock.Close()
		return "", "", nil, err
	}
	return id, dir, lock, nil
}

// tryLock takes an exclusive advisory lock on f without waiting; the kernel
// releases it when the process exits. (flock: the gateway runs on Linux.)
func tryLock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// replayDead commits the rows of every dead process's journal under root that
// are not in the ledger yet, then removes those journals. It returns the rows
// it committed, for the metrics.
func replayDead(ctx context.Context, db *store.DB, root string) ([]store.LedgerRow, error) {
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var total []store.LedgerRow
	for _, d := range dirs {
		if !d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			continue
		}
		dir := filepath.Join(root, d.Name())
		lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // removed by its owner meanwhile
				continue
			}
			return total, err
		}
		if tryLock(lock) != nil { // its process is alive
			lock.Close()
			continue
		}
		rows, err := replayJournal(ctx, db, d.Name(), dir)
		lock.Close()
		if err != nil {
			return total, err
		}
		total = append(total, rows...)
	}
	return total, nil
}

// replayJournal commits the rows of the journal in dir past its last committed
// sequence number, and an interrupted row for each request begun and never
// settled (open.go), then removes it and forgets it. A crash anywhere in between
// leaves it to be replayed again, adding nothing twice.
func replayJournal(ctx context.Context, db *store.DB, id, dir string) ([]store.LedgerRow, error) {
	committed, err := db.JournalSeq(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("ledger journal %s: %w", id, err)
	}
	entries, err := readSegments(dir)
	if err != nil {
		return nil, err
	}
	last := committed
	var rows []store.LedgerRow
	for _, e := range entries {
		if e.Seq > committed && !e.Open {
			rows = append(rows, e.Row)
		}
		last = max(last, e.Seq)
	}
	cut, err := interruptedRows(ctx, db, entries)
	if err != nil {
		return nil, fmt.Errorf("ledger journal %s: %w", id, err)
	}
	rows = append(rows, cut...)
	if len(rows) > 0 {
		if err := db.CommitJournal(ctx, rows, id, last); err != nil {
			return nil, fmt.Errorf("ledger journal %s replay: %w", id, err)
		}
		slog.Info("ledger journal of a stopped process replayed", "journal", id, "rows", len(rows), "interrupted", len(cut))
	}
	if err := os.RemoveAll(dir); err != nil {
		return rows, err
	}
	return rows, db.ForgetJournal(ctx, id)
}
