package jobs_test

import (
	"errors"

	"context"
	"encoding/json"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/store"
)

var acmeUser = identity.Principal{Tenant: "acme", Role: identity.RoleUser, Token: "user", User: "alice"}

// TestInferenceRunsInProcess runs the inference job on the in-process runner (no
// Redis, the embedded default) through the same handler the workers run: the
// answer is stored once, and its ledger row carries the job's request id and the
// batch surface.
func TestInferenceRunsInProcess(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.App.LocalJobs.Start()
	ctx := context.Background()
	enqueue := func(key, body string) {
		t.Helper()
		// A key enqueued twice: refused while the first task lives, else it runs
		// and finds the result. Either way one result and one backend call.
		_, err := jobs.EnqueueInference(ctx, env.App.Jobs, acmeUser, jobs.InferencePayload{Body: json.RawMessage(body), Ref: "batch_1", Key: key})
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			t.Fatal(err)
		}
	}
	enqueue("line-1", `{"model":"sim-chat","messages":[{"role":"user","content":"queued hello"}]}`)
	enqueue("line-2", `{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"model":"sim-vision"}`)
	enqueue("line-1", `{"model":"sim-chat","messages":[{"role":"user","content":"queued again"}]}`)
	var results []store.JobResult
	waitFor(t, "both results", func() bool {
		results, _ = env.App.Store.JobResults(ctx, "acme", "batch_1")
		st := env.App.LocalJobs.Stats()
		return len(results) == 2 && st.Active == 0 && st.Waiting["inference"] == 0
	})
	byKey := map[string]store.JobResult{}
	for _, r := range results {
		byKey[r.Key] = r
	}
	ok, bad := byKey["line-1"], byKey["line-2"]
	if ok.Status != 200 || gjson.GetBytes(ok.Body, "choices.0.message.content").Str != "Hello! You said: queued hello" {
		t.Fatalf("line-1: %d %s", ok.Status, ok.Body)
	}
	if bad.Status != 400 || gjson.GetBytes(bad.Body, "error.code").Str != "duplicate_key" {
		t.Fatalf("line-2: %d %s", bad.Status, bad.Body)
	}
	rows := env.Ledger(t, "acme")
	if len(rows) != 1 || rows[0].RequestID != ok.RequestID || rows[0].Surface != "batch" || rows[0].Ref != "batch_1" || rows[0].UserID != "alice" {
		t.Fatalf("ledger %+v, result request %q", rows, ok.RequestID)
	}
	if env.Sims["sim"].Requests() != 1 {
		t.Fatalf("%d backend requests: a key with a result must not run again", env.Sims["sim"].Requests())
	}
}
