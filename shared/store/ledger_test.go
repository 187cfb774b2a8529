package store_test

import (
	"context"
	"testing"

	"spass/shared/store"
)

// TestLedgerHasRequest is what the journal replay asks before billing a request
// a dead process began: scoped by tenant, a sub-call's row is not the request's.
func TestLedgerHasRequest(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rows := []store.LedgerRow{
			{TenantID: "acme", RequestID: "r1", Route: "chat", Model: "m", Status: 200, CreatedAt: 1},
			{TenantID: "acme", RequestID: "r2-r1", ParentRequestID: "r2", Route: "chat.tool_round", Model: "m", Status: 200, CreatedAt: 1},
		}
		if err := db.InsertLedger(ctx, rows); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			tenant, request string
			want            bool
		}{{"acme", "r1", true}, {"other", "r1", false}, {"acme", "r2", false}, {"acme", "r2-r1", true}} {
			got, err := db.LedgerHasRequest(ctx, tt.tenant, tt.request)
			if err != nil || got != tt.want {
				t.Errorf("LedgerHasRequest(%s, %s) = %v, %v; want %v", tt.tenant, tt.request, got, err, tt.want)
			}
		}
	})
}
