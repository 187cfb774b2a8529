package agent

// Task states of A2A (docs/a2a.md): a task is one agent turn asked for over A2A.
const (
	TaskSubmitted = "submitted"
	TaskWorking   = "working"
	TaskCompleted = "completed"
	TaskCanceled  = "canceled"
	TaskFailed    = "failed"
)

// TaskTerminal reports whether a task in state s is over.
func TaskTerminal(s string) bool {
	return s == TaskCompleted || s == TaskCanceled || s == TaskFailed
}

// Task is an A2A task: one turn of the session that is its contextId. Message is
// the user's A2A message and Reply the agent's text, kept so that tasks/get
// answers without replaying the session. Times are unix ms.
type Task struct {
	ID        string `db:"id"`
	TenantID  string `db:"tenant_id"`
	UserID    string `db:"user_id"`
	Agent     string `db:"agent"`
	SessionID string `db:"session_id"`
	Turn      string `db:"turn"`
	State     string `db:"state"`
	Message   JSON   `db:"message"`
	Reply     string `db:"reply"`
	Error     string `db:"error"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}
