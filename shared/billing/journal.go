package billing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"spass/shared/store"
)

// segmentBytes is the size of one journal segment file; a segment is deleted
// once every row in it is committed to the ledger. 4 MiB hold about 13,000 rows.
const segmentBytes = 4 << 20

// populateAhead is how much of the current segment the writer prepares for
// writing beyond the last row, so that appends do not take page faults.
const populateAhead = 256 << 10

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault pages in writable
// without changing their contents.
const madvPopulateWrite = 23

// entry is one journal line: a ledger row and its sequence number. An Open entry
// is a request's start (Ledger.Begin): it is never committed as it stands, only
// replayed as an interrupted row when its request has no final row (open.go).
type entry struct {
	Seq  int64
	Open bool `json:",omitempty"` // omitted on final rows: their lines are unchanged
	Row  store.LedgerRow
}

// segment is a journal file mapped into memory.
type segment struct {
	path    string
	file    *os.File
	mem     []byte
	off     int   // bytes used
	lastSeq int64 // set when sealed
}

// journal appends ledger rows to memory-mapped segment files. Copying a row into
// a shared file mapping puts it in the kernel's page cache, which survives the
// process being killed (kill -9, OOM, panic) like a write(2) does, for a memcpy
// instead of a system call (measured here after idle gaps: 0.5 µs against 3.4 µs
// p50 and 35 µs p99 for an append). Like SQLite's WAL with synchronous=NORMAL it
// does not promise to survive a power cut. Unused bytes of a segment are zero,
// which JSON never contains, so a reader stops at the first zero byte.
//
// Not safe for concurrent use: the Ledger holds its lock around append, and only
// its writer goroutine calls committed and prepare.
type journal struct {
	dir    string
	limit  int // segment size: segmentBytes
	cur    *segment
	sealed []*segment
	line   []byte // the last line appended, reused (appendEntry)
	// opens holds the line of every request begun and not yet settled. A new
	// segment starts with copies of them: the sealed one is deleted once its
	// rows are committed, while a stream begun in it may still be running.
	opens map[openKey][]byte
}

// segmentName orders segments by the first sequence number they may hold.
func segmentName(dir string, firstSeq int64) string {
	return filepath.Join(dir, fmt.Sprintf("ledger-%020d.journal", firstSeq))
}

// segments lists the journal files in dir, oldest first.
func segments(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "ledger-*.journal"))
	sort.Strings(files)
	return files, err
}

// readSegments returns the entries of every segment in dir, in sequence order
// (segments are named by their first sequence number and appended in order). A
// line that does not parse (a row torn by a power cut) is logged and skipped.
func readSegments(dir string) ([]entry, error) {
	files, err := segments(dir)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ledger journal: %w", err)
		}
		if end := bytes.IndexByte(data, 0); end >= 0 {
			data = data[:end]
		}
		for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			var e entry
			if len(line) == 0 {
				continue
			}
			if err := json.Unmarshal(line, &e); err != nil {
				slog.Warn("ledger journal: unreadable line skipped", "file", filepath.Base(path), "line", i+1, "err", err)
				continue
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// open creates and maps a segment of size bytes named for firstSeq, the first
// new entry it will hold (copies of open starts carried into it come first and
// keep their older numbers).
func (j *journal) open(firstSeq int64, size int) (*segment, error) {
	path := segmentName(j.dir, firstSeq)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &segment{path: path, file: f, mem: mem}, nil
}

// append copies e into the current segment as one JSON line, first moving to a
// new segment when it does not fit.
func (j *journal) append(e entry) error {
	j.line = appendEntry(j.line[:0], &e)
	line := j.line
	if len(line) > j.limit {
		return fmt.Errorf("ledger row of %d bytes exceeds the journal segment", len(line))
	}
	if j.cur == nil || j.cur.off+len(line) > len(j.cur.mem) {
		if err := j.roll(e.Seq, len(line)); err != nil {
			return err
		}
	}
	j.cur.off += copy(j.cur.mem[j.cur.off:], line)
	return nil
}

// roll seals the current segment and starts the next, named firstSeq, with a
// copy of every open request's line, so that deleting the sealed segment loses
// no start. Copies keep their sequence numbers; a replay takes one per request.
// The segment grows past limit only when the opens and need do not fit in it.
func (j *journal) roll(firstSeq int64, need int) error {
	for _, line := range j.opens {
		need += len(line)
	}
	size := j.limit
	if need > size {
		page := os.Getpagesize()
		size = (need + page - 1) / page * page
	}
	next, err := j.open(firstSeq, size)
	if err != nil {
		return err
	}
	for _, line := range j.opens {
		next.off += copy(next.mem[next.off:], line)
	}
	if j.cur != nil {
		j.cur.lastSeq = firstSeq - 1
		j.sealed = append(j.sealed, j.cur)
	}
	j.cur = next
	return nil
}

// begin appends e, a request's start, and keeps its line until settle.
func (j *journal) begin(k openKey, e entry) error {
	if err := j.append(e); err != nil {
		return err
	}
	if j.opens == nil {
		j.opens = map[openKey][]byte{}
	}
	j.opens[k] = bytes.Clone(j.line)
	return nil
}

// settle forgets k's start: its final row follows, and the start is not copied
// into later segments. It reports whether k was open.
func (j *journal) settle(k openKey) bool {
	if len(j.opens) == 0 { // the common case: no hashing per row
		return false
	}
	_, ok := j.opens[k]
	delete(j.opens, k)
	return ok
}

// ahead returns the current segment's not yet written part that the next
// appends will touch; the caller prepares it outside the lock (prepare).
func (j *journal) ahead() []byte {
	if j.cur == nil {
		return nil
	}
	from := j.cur.off &^ (os.Getpagesize() - 1)
	return j.cur.mem[from:min(j.cur.off+populateAhead, len(j.cur.mem))]
}

// prepare faults mem's pages in writable without changing them. It changes no
// byte, so it may run while appends write the same pages; a kernel without
// MADV_POPULATE_WRITE leaves the faults to the appends.
func prepare(mem []byte) {
	if len(mem) > 0 {
		syscall.Madvise(mem, madvPopulateWrite)
	}
}

// committed releases the sealed segments whose rows are all at or below seq and
// returns their paths, to be deleted.
func (j *journal) committed(seq int64) []string {
	var done []string
	keep := j.sealed[:0]
	for _, s := range j.sealed {
		if s.lastSeq <= seq {
			s.close()
			done = append(done, s.path)
		} else {
			keep = append(keep, s)
		}
	}
	j.sealed = keep
	return done
}

// close unmaps and closes every segment.
func (j *journal) close() {
	for _, s := range j.sealed {
		s.close()
	}
	if j.cur != nil {
		j.cur.close()
		j.cur = nil
	}
	j.sealed = nil
}

func (s *segment) close() {
	syscall.Munmap(s.mem)
	s.file.Close()
}
