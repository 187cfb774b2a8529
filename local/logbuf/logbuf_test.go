package logbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"spass/local/logbuf"
)

// TestConcurrentWrites: lines written from many goroutines all arrive whole
// (the race detector checks the locking).
func TestConcurrentWrites(t *testing.T) {
	var b logbuf.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				fmt.Fprintf(&b, "writer %d line %d\n", i, j)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 8*50 {
		t.Fatalf("%d lines, want %d", len(lines), 8*50)
	}
	for _, l := range lines {
		var i, j int
		if n, err := fmt.Sscanf(l, "writer %d line %d", &i, &j); n != 2 || err != nil {
			t.Fatalf("torn line %q", l)
		}
	}
}
