package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"spass/shared/conversation"
	"spass/shared/store"
)

// turnOf runs one turn on the conversation: a user message of userTokens and,
// when ok, a reply of replyTokens; a failed turn leaves its message failed.
func turnOf(t *testing.T, db *store.DB, tenant, id string, n, userTokens, replyTokens int, ok bool) {
	t.Helper()
	ctx := context.Background()
	turn := fmt.Sprintf("req_%d", n)
	user := conversation.Message{Role: "user", Body: []byte(fmt.Sprintf(`{"role":"user","content":"u%d"}`, n)), Tokens: userTokens}
	if err := db.BeginTurn(ctx, tenant, id, turn, []conversation.Message{user}); err != nil {
		t.Fatal(err)
	}
	var reply *conversation.Message
	if ok {
		reply = &conversation.Message{Role: "assistant", Body: []byte(fmt.Sprintf(`{"role":"assistant","content":"a%d"}`, n)), Tokens: replyTokens}
	}
	if err := db.EndTurn(ctx, tenant, id, turn, reply, "sim-chat", ""); err != nil {
		t.Fatal(err)
	}
}

func TestRecentMessagesFitTheBudget(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := conversation.Conversation{TenantID: "acme", UserID: "alice"}
		if err := db.CreateConversation(ctx, &c); err != nil {
			t.Fatal(err)
		}
		turnOf(t, db, "acme", c.ID, 1, 10, 20, true)  // seq 1, 2
		turnOf(t, db, "acme", c.ID, 2, 500, 0, false) // seq 3, failed: never sent, never counted
		turnOf(t, db, "acme", c.ID, 3, 30, 40, true)  // seq 4, 5
		turnOf(t, db, "acme", c.ID, 4, 50, 60, true)  // seq 6, 7
		other := conversation.Conversation{TenantID: "acme", UserID: "alice"}
		if err := db.CreateConversation(ctx, &other); err != nil {
			t.Fatal(err)
		}
		turnOf(t, db, "acme", other.ID, 9, 1, 1, true)
		c, _, _ = db.Conversation(ctx, "acme", "alice", c.ID)
		if c.Messages != 6 {
			t.Fatalf("conversation counts %d ok messages, want 6", c.Messages)
		}
		cases := []struct {
			budget  int
			want    []int64 // seqs, oldest first
			leftOut int
		}{
			{0, nil, 6},
			{59, nil, 6},                        // not even the newest reply fits
			{60, []int64{7}, 5},                 // exactly the newest
			{110, []int64{6, 7}, 4},             // one turn
			{149, []int64{6, 7}, 4},             // the next message (40) does not fit: stop there
			{179, []int64{5, 6, 7}, 3},          // a history may open on a reply; the caller trims it
			{180, []int64{4, 5, 6, 7}, 2},       // two turns; the failed message is skipped
			{210, []int64{1, 2, 4, 5, 6, 7}, 0}, // everything
			{1 << 30, []int64{1, 2, 4, 5, 6, 7}, 0},
		}
		for _, tc := range cases {
			got, left, err := db.RecentMessages(ctx, "acme", c.ID, tc.budget, c.Messages)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, m := range got {
				seqs = append(seqs, m.Seq)
				if m.Status != conversation.StatusOK || m.ConversationID != c.ID || len(m.Body) == 0 {
					t.Errorf("budget %d: message %+v", tc.budget, m)
				}
			}
			if !slices.Equal(seqs, tc.want) || left != tc.leftOut {
				t.Errorf("budget %d: seqs %v, left out %d; want %v, %d", tc.budget, seqs, left, tc.want, tc.leftOut)
			}
		}
		// Another tenant reads nothing of it.
		if got, _, err := db.RecentMessages(ctx, "globex", c.ID, 1<<30, 0); err != nil || len(got) != 0 {
			t.Fatalf("globex read %d messages (%v)", len(got), err)
		}
	})
}

func TestConversationSettingsReadBack(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := conversation.Conversation{TenantID: "acme", UserID: "alice", Metadata: []byte(`{"app":"notes"}`)}
		if err := db.CreateConversation(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if err := db.SetConversationSettings(ctx, "acme", c.ID, "be brief", nil); err != nil {
			t.Fatal(err)
		}
		got, ok, err := db.Conversation(ctx, "acme", "alice", c.ID)
		if err != nil || !ok || got.SystemPrompt != "be brief" || string(got.Metadata) != `{"app":"notes"}` {
			t.Fatalf("without metadata: %+v %v %v (the metadata must stay)", got, ok, err)
		}
		if err := db.SetConversationSettings(ctx, "acme", c.ID, "", []byte(`{"app":"planner"}`)); err != nil {
			t.Fatal(err)
		}
		if got, _, err = db.Conversation(ctx, "acme", "alice", c.ID); err != nil || got.SystemPrompt != "" || string(got.Metadata) != `{"app":"planner"}` {
			t.Fatalf("with metadata: %+v %v", got, err)
		}
		if list, err := db.Conversations(ctx, "acme", "alice", store.ConversationPage{}, 10); err != nil || len(list) != 1 {
			t.Fatalf("listing: %d %v", len(list), err)
		}
	})
}
