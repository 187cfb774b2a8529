package billing_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spass/shared/billing"
	"spass/shared/config"
	"spass/shared/store"
	"spass/shared/tenantcfg"
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

// TestServiceBeginPricesTheEstimate: a stream the gateway began and never
// finished is billed at the tenant's prices for its estimated prompt; one that
// finished is billed once, at its final usage.
func TestServiceBeginPricesTheEstimate(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := billing.OpenLedger(context.Background(), db, filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Billing: config.Billing{EURPerUSD: 0.5},
		Models: []config.Model{{ID: "m", Pricing: config.Pricing{Input: 1, Output: 2}}}}
	settings, err := tenantcfg.New(cfg, func(string) string { return "" }, db)
	if err != nil {
		t.Fatal(err)
	}
	s := &billing.Service{Ledger: l, Pricer: billing.NewPricer(cfg), Settings: settings}
	ctx := context.Background()
	e := billing.Entry{Tenant: "acme", User: "u", RequestID: "done", Route: "chat", Model: "m", Backend: "sim", Tokens: billing.Tokens{Prompt: 1000}}
	if err := s.Begin(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Tokens, e.Status = billing.Tokens{Prompt: 1000, Completion: 500}, 200
	if err := s.Bill(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(ctx, billing.Entry{Tenant: "acme", User: "u", RequestID: "cut", Route: "chat", Model: "m", Tokens: billing.Tokens{Prompt: 3000}}); err != nil {
		t.Fatal(err)
	}
	l.Close() // still open: billed as interrupted
	got := map[string][]store.LedgerRow{}
	for _, r := range allRows(t, db) {
		got[r.RequestID] = append(got[r.RequestID], r)
	}
	if r := got["done"]; len(r) != 1 || r[0].Status != 200 || r[0].Estimated || r[0].CostNanoUSD != 2_000_000 {
		t.Fatalf("finished stream: %+v, want one row, 200, 2,000,000 nano-USD (1000 in + 500 out)", r)
	}
	if r := got["cut"]; len(r) != 1 || r[0].Status != billing.InterruptedStatus || !r[0].Estimated ||
		r[0].PromptTokens != 3000 || r[0].CostNanoUSD != 3_000_000 || r[0].CostNanoEUR != 1_500_000 {
		t.Fatalf("interrupted stream: %+v, want one estimated row at status %d costing 3000 prompt tokens", r, billing.InterruptedStatus)
	}
}

// BenchmarkLedgerStreams is BenchmarkLedgerWrites for streamed requests: each
// journals its start (Begin) and then its final row, which settles it.
func BenchmarkLedgerStreams(b *testing.B) {
	l, _ := openLedger(b)
	b.SetParallelism(32)
	var n atomic.Int64
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := row(0)
			r.RequestID = strconv.FormatInt(n.Add(1), 10)
			if err := l.Begin(r); err != nil {
				b.Error(err)
			}
			if err := l.Record(r); err != nil {
				b.Error(err)
			}
		}
	})
	if err := l.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	if u := l.Unsettled(); u != 0 {
		b.Fatalf("%d requests left unsettled", u)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "streams/s")
}
