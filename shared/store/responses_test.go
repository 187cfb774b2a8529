package store_test

import (
	"context"
	"testing"

	"spass/shared/response"
	"spass/shared/store"
)

func TestResponsesAreScopedByTenantAndUser(t *testing.T) {
	eachDialect(t, testResponsesAreScopedByTenantAndUser)
}

func testResponsesAreScopedByTenantAndUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := response.Response{ID: response.NewID("resp_"), TenantID: "acme", UserID: "alice", Model: "m", Status: "completed",
		Input: []byte(`[{"type":"message"}]`), Body: []byte(`{"id":"x"}`), CreatedAt: 1}
	if err := db.SaveResponse(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.Response(ctx, "acme", "alice", r.ID)
	if err != nil || !ok || string(got.Input) != string(r.Input) || string(got.Body) != string(r.Body) || got.Model != "m" {
		t.Fatalf("own response: %+v %v %v", got, ok, err)
	}
	for _, who := range [][2]string{{"acme", "bob"}, {"globex", "alice"}} {
		if _, ok, err := db.Response(ctx, who[0], who[1], r.ID); ok || err != nil {
			t.Errorf("%v reads another's response: %v %v", who, ok, err)
		}
		if ok, err := db.DeleteResponse(ctx, who[0], who[1], r.ID); ok || err != nil {
			t.Errorf("%v deletes another's response: %v %v", who, ok, err)
		}
	}
	if ok, err := db.DeleteResponse(ctx, "acme", "alice", r.ID); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if _, ok, _ := db.Response(ctx, "acme", "alice", r.ID); ok {
		t.Fatal("deleted response still there")
	}
}
