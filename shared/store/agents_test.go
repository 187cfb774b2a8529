package store_test

import (
	"context"
	"strings"
	"testing"

	"spass/shared/agent"
	"spass/shared/store"
)

// TestCurrentSegmentIsTheNewest: a turn replays the newest segment only, read as
// one row however long the lineage, and never another tenant's.
func TestCurrentSegmentIsTheNewest(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := agent.Session{TenantID: "acme", UserID: "alice", Agent: "diary"}
		if err := db.CreateSession(ctx, &s); err != nil {
			t.Fatal(err)
		}
		if seg, ok, err := db.CurrentSegment(ctx, "acme", s.ID); err != nil || !ok || seg.Number != 1 || seg.StartSeq != 1 {
			t.Fatalf("a new session's segment: %+v %v %v", seg, ok, err)
		}
		for n := 2; n <= 12; n++ {
			seg := agent.Segment{Number: n, StartSeq: int64(10 * n), Summary: "summary " + strings.Repeat("x", n), Facts: agent.JSON(`["a fact"]`)}
			if ok, err := db.OpenSegment(ctx, "acme", s.ID, seg); err != nil || !ok {
				t.Fatalf("segment %d: %v %v", n, ok, err)
			}
		}
		seg, ok, err := db.CurrentSegment(ctx, "acme", s.ID)
		if err != nil || !ok || seg.Number != 12 || seg.StartSeq != 120 || seg.Summary != "summary "+strings.Repeat("x", 12) || string(seg.Facts) != `["a fact"]` {
			t.Fatalf("current segment %+v %v %v, want number 12", seg, ok, err)
		}
		for _, c := range []struct{ tenant, id string }{{"globex", s.ID}, {"acme", "sess_nope"}} {
			if _, ok, err := db.CurrentSegment(ctx, c.tenant, c.id); ok || err != nil {
				t.Errorf("%s/%s: found %v, err %v", c.tenant, c.id, ok, err)
			}
		}
	})
}

// TestTurnEndFindsItsMessagesByIndex: closing a turn finds its messages through
// the (session_id, turn) index, not by reading every message of the session, so
// a turn on a session of thousands of messages costs what one on ten does.
func TestTurnEndFindsItsMessagesByIndex(t *testing.T) {
	raw, err := store.OpenRaw(openDB(t).Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var plan []struct {
		ID, Parent, NotUsed int
		Detail              string
	}
	err = raw.Select(&plan, `EXPLAIN QUERY PLAN UPDATE session_messages SET status = 'ok'
		WHERE tenant_id = 'acme' AND session_id = 'sess_1' AND turn = 'req_1' AND status = 'pending'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.Contains(plan[0].Detail, "session_messages_turn (session_id=? AND turn=?)") {
		t.Fatalf("query plan %+v, want a search of session_messages_turn", plan)
	}
}
