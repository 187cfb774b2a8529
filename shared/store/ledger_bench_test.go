package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"spass/shared/requestid"
	"spass/shared/store"
)

// BenchmarkLedgerCommit commits the ledger as its writer does (batches of 100
// rows, one transaction each) into a ledger that holds 200,000 rows already,
// with the gateway's request ids (time-ordered) against wholly random ones,
// which land on a random page of the (tenant_id, request_id) index each:
//
//	go test -tags sqlite_fts5 -run '^$' -bench LedgerCommit ./shared/store
func BenchmarkLedgerCommit(b *testing.B) {
	random := func() string {
		var r [12]byte
		rand.Read(r[:])
		return "req_" + hex.EncodeToString(r[:])
	}
	for _, ids := range []struct {
		name string
		id   func() string
	}{{"time-ordered ids", requestid.New}, {"random ids", random}} {
		b.Run(ids.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "spass.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			batch := func() []store.LedgerRow {
				rows := make([]store.LedgerRow, 100)
				for i := range rows {
					rows[i] = store.LedgerRow{TenantID: "acme", UserID: "alice", RequestID: ids.id(), Route: "chat", Surface: "v1",
						Model: "sim-chat", Backend: "sim", Tier: 1, PromptTokens: 20, CompletionTokens: 16, LatencyMS: 20,
						Status: 200, CreatedAt: time.Now().UnixMilli()}
				}
				return rows
			}
			for range 2000 {
				if err := db.InsertLedger(ctx, batch()); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := cpuNow()
			for b.Loop() {
				b.StopTimer()
				rows := batch()
				b.StartTimer()
				if err := db.InsertLedger(ctx, rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuNow()-start).Nanoseconds())/float64(100*b.N), "cpu-ns/row")
		})
	}
}

// cpuNow is this process's user and system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
