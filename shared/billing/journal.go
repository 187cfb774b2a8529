package billing

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"spass/shared/store"
)

// segmentBytes is the size at which the journal moves on to a new segment file;
// a segment is deleted once every row in it is committed to the ledger.
const segmentBytes = 1 << 20

// entry is one journal line: a ledger row and its sequence number.
type entry struct {
	Seq int64
	Row store.LedgerRow
}

// segment is a journal file that no longer takes appends.
type segment struct {
	path    string
	lastSeq int64
}

// journal is the append-only file a ledger row reaches before the response ends.
// One write(2) per row puts it in the kernel's page cache, which survives the
// process being killed (kill -9, OOM, panic); like SQLite's WAL with
// synchronous=NORMAL it does not promise to survive a power cut. Not safe for
// concurrent use: the Ledger holds its lock around every call.
type journal struct {
	dir    string
	limit  int64 // segment size: segmentBytes
	file   *os.File
	size   int64
	sealed []segment
	buf    []byte
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
// line that does not parse (a write torn by a power cut) is logged and skipped.
func readSegments(dir string) ([]entry, error) {
	files, err := segments(dir)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			var e entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				slog.Warn("ledger journal: unreadable line skipped", "file", filepath.Base(path), "line", line, "err", err)
				continue
			}
			out = append(out, e)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("ledger journal %s: %w", path, err)
		}
	}
	return out, nil
}

// open starts a new segment whose first entry will be firstSeq.
func (j *journal) open(firstSeq int64) error {
	f, err := os.OpenFile(segmentName(j.dir, firstSeq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	j.file, j.size = f, 0
	return nil
}

// append writes e as one line with a single write call, first moving to a new
// segment when the current one is full.
func (j *journal) append(e entry) error {
	if j.size >= j.limit {
		j.file.Close()
		j.sealed = append(j.sealed, segment{path: j.file.Name(), lastSeq: e.Seq - 1})
		if err := j.open(e.Seq); err != nil {
			j.file = nil
			return err
		}
	}
	if j.file == nil {
		if err := j.open(e.Seq); err != nil {
			return err
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.buf = append(append(j.buf[:0], b...), '\n')
	n, err := j.file.Write(j.buf)
	j.size += int64(n)
	return err
}

// committed removes the sealed segments whose rows are all at or below seq and
// returns their paths, to be deleted outside the lock.
func (j *journal) committed(seq int64) []string {
	var done []string
	keep := j.sealed[:0]
	for _, s := range j.sealed {
		if s.lastSeq <= seq {
			done = append(done, s.path)
		} else {
			keep = append(keep, s)
		}
	}
	j.sealed = keep
	return done
}

// close closes the current segment.
func (j *journal) close() {
	if j.file != nil {
		j.file.Close()
		j.file = nil
	}
	j.sealed = nil
}
