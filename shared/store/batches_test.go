package store_test

import (
	"context"
	"testing"

	"spass/shared/batch"
	"spass/shared/store"
)

// TestFilesAndBatchesAreScoped: every read and change of files and batches is
// scoped by tenant (and by user where one is named); another tenant's id is
// not found and changes nothing.
func TestFilesAndBatchesAreScoped(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := batch.File{ID: "file-a", TenantID: "acme", UserID: "alice", Purpose: "batch", Filename: "in.jsonl", Bytes: 10, Lines: 2, Endpoint: batch.EndpointChat, CreatedAt: 1}
		if err := db.PutFile(ctx, f); err != nil {
			t.Fatal(err)
		}
		b := batch.Batch{ID: "batch_a", TenantID: "acme", UserID: "alice", Role: "user", Endpoint: batch.EndpointChat, InputFileID: f.ID,
			CompletionWindow: "24h", Metadata: "{}", Status: batch.InProgress, Total: 2, CreatedAt: 1, ExpiresAt: 1 << 50}
		if err := db.CreateBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, who := range []struct{ tenant, user string }{{"globex", ""}, {"globex", "alice"}, {"acme", "bob"}} {
			if _, ok, _ := db.File(ctx, who.tenant, who.user, f.ID); ok {
				t.Errorf("%v reads acme's file", who)
			}
			if _, ok, _ := db.Batch(ctx, who.tenant, who.user, b.ID); ok {
				t.Errorf("%v reads acme's batch", who)
			}
			if files, _ := db.Files(ctx, who.tenant, store.ListQuery{User: who.user, Limit: 10}); len(files) != 0 {
				t.Errorf("%v lists acme's files", who)
			}
			if bs, _ := db.Batches(ctx, who.tenant, store.ListQuery{User: who.user, Limit: 10}); len(bs) != 0 {
				t.Errorf("%v lists acme's batches", who)
			}
			if found, moved, _ := db.CancelBatch(ctx, who.tenant, who.user, b.ID, 5); found || moved {
				t.Errorf("%v cancels acme's batch", who)
			}
			if gone, _ := db.DeleteFile(ctx, who.tenant, who.user, f.ID); gone {
				t.Errorf("%v deletes acme's file", who)
			}
		}
		for _, tenant := range []string{"globex"} {
			if ok, _ := db.ClaimBatchLine(ctx, tenant, b.ID); ok {
				t.Error("globex claims a line of acme's batch")
			}
			if used, _ := db.FileInUse(ctx, tenant, f.ID); used {
				t.Error("acme's batch holds globex's file")
			}
			if _, fin, _ := db.SaveBatchResult(ctx, store.JobResult{TenantID: tenant, Ref: b.ID, Key: "x", Status: 200, Body: []byte("{}")}, 1, 1); fin {
				t.Error("a globex result finalized acme's batch")
			}
		}
		if got, _, _ := db.Batch(ctx, "acme", "alice", b.ID); got.Status != batch.InProgress || got.Completed != 0 || got.Running != 0 {
			t.Fatalf("acme's batch changed: %+v", got)
		}
		if used, _ := db.FileInUse(ctx, "acme", f.ID); !used {
			t.Fatal("acme's running batch does not hold its input")
		}
	})
}

// TestBatchResultsCountOnce: a result is counted with the batch once, whoever
// stores it again, and the one that completes the batch moves it to
// finalizing, once.
func TestBatchResultsCountOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := batch.Batch{ID: "batch_c", TenantID: "acme", UserID: "alice", Role: "user", Endpoint: batch.EndpointChat, InputFileID: "file-c",
			CompletionWindow: "24h", Metadata: "{}", Status: batch.InProgress, Total: 2, CreatedAt: 1, ExpiresAt: 1 << 50}
		if err := db.CreateBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		save := func(key string, status int) (bool, bool) {
			t.Helper()
			if ok, err := db.ClaimBatchLine(ctx, "acme", b.ID); err != nil || !ok {
				t.Fatalf("claim %s: %v %v", key, ok, err)
			}
			stored, fin, err := db.SaveBatchResult(ctx, store.JobResult{TenantID: "acme", Ref: b.ID, Key: key, Status: status, Body: []byte("{}")}, 10, 5)
			if err != nil {
				t.Fatal(err)
			}
			return stored, fin
		}
		if stored, fin := save("a", 200); !stored || fin {
			t.Fatalf("first line: stored %v finalizing %v", stored, fin)
		}
		if stored, fin := save("a", 500); stored || fin {
			t.Fatalf("the same line again: stored %v finalizing %v", stored, fin)
		}
		if stored, fin := save("b", 502); !stored || !fin {
			t.Fatalf("last line: stored %v finalizing %v", stored, fin)
		}
		got, _, _ := db.Batch(ctx, "acme", "", b.ID)
		if got.Status != batch.Finalizing || got.Ending != batch.Completed || got.Completed != 1 || got.Failed != 1 || got.Running != 0 ||
			got.PromptTokens != 20 || got.CompletionTokens != 10 {
			t.Fatalf("batch %+v", got)
		}
		if ok, _ := db.ClaimBatchLine(ctx, "acme", b.ID); ok {
			t.Fatal("a line claimed in a finalizing batch")
		}
		if moved, _ := db.FinishBatch(ctx, "acme", b.ID, store.BatchFinish{OutputFileID: "file-o", At: 9}); !moved {
			t.Fatal("not finished")
		}
		if moved, _ := db.FinishBatch(ctx, "acme", b.ID, store.BatchFinish{At: 10}); moved {
			t.Fatal("finished twice")
		}
		if got, _, _ := db.Batch(ctx, "acme", "", b.ID); got.Status != batch.Completed || got.CompletedAt != 9 || got.OutputFileID != "file-o" {
			t.Fatalf("finished batch %+v", got)
		}
	})
}
