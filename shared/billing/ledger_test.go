package billing_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"spass/shared/billing"
	"spass/shared/store"
)

func openLedger(t testing.TB) (*billing.Ledger, *store.DB) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	l := billing.NewLedger(db)
	t.Cleanup(func() { l.Close(); db.Close() })
	return l, db
}

func row(i int) store.LedgerRow {
	return store.LedgerRow{TenantID: "acme", RequestID: "req", Route: "chat", Model: "m", PromptTokens: int64(i), Status: 200}
}

// TestRecordIsCommittedOnReturn checks the promise the chat pipeline relies on:
// when Record returns, the row is readable.
func TestRecordIsCommittedOnReturn(t *testing.T) {
	l, db := openLedger(t)
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Go(func() {
			if err := l.Record(row(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	rows, err := db.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil || len(rows) != 64 {
		t.Fatalf("%d rows, err %v", len(rows), err)
	}
}

// BenchmarkLedgerWrites reports committed ledger rows per second with concurrent
// writers, the way request handlers call it: go test -bench LedgerWrites ./shared/billing
func BenchmarkLedgerWrites(b *testing.B) {
	l, _ := openLedger(b)
	b.SetParallelism(32)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := l.Record(row(i)); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
