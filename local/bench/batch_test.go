package bench

import (
	"context"
	"testing"
	"time"
)

// TestRunBatchSmall runs the batch benchmark in miniature: both phases measure
// answered requests, and the batch completes every line.
func TestRunBatchSmall(t *testing.T) {
	rep, err := RunBatch(context.Background(), BatchOptions{Lines: 20, Rate: 100, Idle: 200 * time.Millisecond, Tokens: 4, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Idle.N == 0 || rep.Busy.N == 0 || rep.LinesPerSecond <= 0 || rep.Ratio <= 0 {
		t.Fatalf("report %+v", rep)
	}
}
