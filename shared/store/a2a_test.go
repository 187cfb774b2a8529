package store_test

import (
	"context"
	"strings"
	"testing"

	"spass/shared/agent"
	"spass/shared/store"
)

func TestA2ATasks(t *testing.T) { eachDialect(t, testA2ATasks) }

// testA2ATasks: a task is created with its id and times, read back whole by its
// user (and by the tenant with user ""), hidden from another user and another
// tenant, who cannot end it or rewrite its message either; it ends once, and a
// canceled task stays canceled.
func testA2ATasks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	newTask := func(state string) agent.Task {
		t.Helper()
		task := agent.Task{TenantID: "acme", UserID: "alice", Agent: "helper", SessionID: "sess_1", Turn: "req_1",
			State: state, Message: agent.JSON(`{"role":"user","parts":[{"kind":"text","text":"hi"}]}`)}
		if err := db.CreateTask(ctx, &task); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(task.ID, "task_") || task.CreatedAt == 0 || task.UpdatedAt != task.CreatedAt {
			t.Fatalf("created task %+v: want a task_ id and its times", task)
		}
		return task
	}
	task := newTask(agent.TaskWorking)
	other := newTask(agent.TaskSubmitted)
	if other.ID == task.ID {
		t.Fatalf("two tasks share the id %s", task.ID)
	}

	for _, user := range []string{"alice", ""} {
		got, ok, err := db.Task(ctx, "acme", user, task.ID)
		if err != nil || !ok || got.Agent != "helper" || got.SessionID != "sess_1" || got.Turn != "req_1" ||
			got.State != agent.TaskWorking || string(got.Message) != string(task.Message) || got.CreatedAt != task.CreatedAt {
			t.Fatalf("Task(acme, %q): %+v %v %v", user, got, ok, err)
		}
	}

	// Another user of the tenant, and another tenant (even as its admin, user ""),
	// see nothing; another tenant can neither end the task nor rewrite its message.
	for _, who := range [][2]string{{"acme", "bob"}, {"globex", "alice"}, {"globex", ""}} {
		if got, ok, err := db.Task(ctx, who[0], who[1], task.ID); ok || err != nil {
			t.Errorf("%v reads another's task: %+v %v %v", who, got, ok, err)
		}
	}
	if ended, err := db.EndTask(ctx, "globex", task.ID, agent.TaskCompleted, "stolen", ""); ended || err != nil {
		t.Errorf("another tenant ended the task: %v %v", ended, err)
	}
	if err := db.SetTaskMessage(ctx, "globex", task.ID, agent.JSON(`{"forged":true}`)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.Task(ctx, "acme", "alice", task.ID); got.State != agent.TaskWorking || got.Reply != "" || string(got.Message) != string(task.Message) {
		t.Fatalf("after another tenant's attempts: %+v", got)
	}

	// The task's own tenant sets the message that names the task, then ends it once.
	msg := agent.JSON(`{"role":"user","taskId":"` + task.ID + `"}`)
	if err := db.SetTaskMessage(ctx, "acme", task.ID, msg); err != nil {
		t.Fatal(err)
	}
	if ended, err := db.EndTask(ctx, "acme", task.ID, agent.TaskCompleted, "hello", ""); !ended || err != nil {
		t.Fatalf("EndTask: %v %v", ended, err)
	}
	if ended, err := db.EndTask(ctx, "acme", task.ID, agent.TaskFailed, "", "upstream_error"); ended || err != nil {
		t.Errorf("a completed task ended again: %v %v", ended, err)
	}
	got, _, _ := db.Task(ctx, "acme", "alice", task.ID)
	if got.State != agent.TaskCompleted || got.Reply != "hello" || got.Error != "" || string(got.Message) != string(msg) || got.UpdatedAt < got.CreatedAt {
		t.Fatalf("ended task %+v", got)
	}

	// A canceled task stays canceled when its turn ends afterwards.
	if ended, err := db.EndTask(ctx, "acme", other.ID, agent.TaskCanceled, "", "canceled"); !ended || err != nil {
		t.Fatalf("cancel: %v %v", ended, err)
	}
	if ended, err := db.EndTask(ctx, "acme", other.ID, agent.TaskCompleted, "late", ""); ended || err != nil {
		t.Errorf("a canceled task completed: %v %v", ended, err)
	}
	if got, _, _ := db.Task(ctx, "acme", "alice", other.ID); got.State != agent.TaskCanceled || got.Error != "canceled" || got.Reply != "" {
		t.Fatalf("canceled task %+v", got)
	}
	if _, ok, err := db.Task(ctx, "acme", "alice", "task_missing"); ok || err != nil {
		t.Errorf("unknown task found: %v %v", ok, err)
	}
}
