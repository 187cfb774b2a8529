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
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := billing.OpenLedger(context.Background(), db, filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); db.Close() })
	return l, db
}

func row(i int) store.LedgerRow {
	return store.LedgerRow{TenantID: "acme", RequestID: "req", Route: "chat", Model: "m", PromptTokens: int64(i), Status: 200}
}

func allRows(t testing.TB, db *store.DB) []store.LedgerRow {
	t.Helper()
	rows, err := db.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSyncCommitsEveryRecordedRow checks what the usage API relies on: after Sync,
// every row recorded before it is readable from SQLite.
func TestSyncCommitsEveryRecordedRow(t *testing.T) {
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
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows := allRows(t, db); len(rows) != 64 {
		t.Fatalf("%d rows after Sync, want 64", len(rows))
	}
}

// BenchmarkLedgerWrites reports ledger rows per second with concurrent writers,
// the way request handlers call Record, including the commit of every row to
// SQLite at the end: go test -bench LedgerWrites ./shared/billing
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
	if err := l.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
