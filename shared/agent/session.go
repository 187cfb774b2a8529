package agent

// Message statuses: a turn's user message is pending while the agent answers; ok
// once the turn is kept, failed when it fails. Only ok messages are replayed.
const (
	StatusPending = "pending"
	StatusOK      = "ok"
	StatusFailed  = "failed"
)

// Session is one multi-turn conversation with an agent. Segment is its current
// segment: each compaction closes one and opens the next. Times are unix ms.
type Session struct {
	ID         string `db:"id"`
	TenantID   string `db:"tenant_id"`
	UserID     string `db:"user_id"`
	Agent      string `db:"agent"`
	Overrides  JSON   `db:"overrides"`
	Segment    int    `db:"segment"`
	Messages   int    `db:"messages"` // ok messages kept, every segment
	NextSeq    int64  `db:"next_seq"`
	LeaseUntil int64  `db:"lease_until"`
	CreatedAt  int64  `db:"created_at"`
	UpdatedAt  int64  `db:"updated_at"`
}

// Message is one message of a session: Body is the OpenAI message object the
// model is sent; Steps, on an agent's reply, the tool calls that led to it.
type Message struct {
	SessionID string `db:"session_id"`
	TenantID  string `db:"tenant_id"`
	Seq       int64  `db:"seq"`
	Turn      string `db:"turn"`
	Role      string `db:"role"`
	Body      JSON   `db:"body"`
	Steps     JSON   `db:"steps"`
	Status    string `db:"status"`
	Tokens    int    `db:"tokens"`
	CreatedAt int64  `db:"created_at"`
}

// Segment is one link of a session's lineage: the messages from StartSeq on,
// replayed after the summary and the durable facts of everything before it.
// Segment 1 starts the session and has no summary.
type Segment struct {
	SessionID string `db:"session_id" json:"-"`
	TenantID  string `db:"tenant_id" json:"-"`
	Number    int    `db:"number" json:"segment"`
	StartSeq  int64  `db:"start_seq" json:"start_seq"`
	Summary   string `db:"summary" json:"summary,omitempty"`
	Facts     JSON   `db:"facts" json:"facts"` // []string
	Turn      string `db:"turn" json:"compacted_by,omitempty"`
	CreatedAt int64  `db:"created_at" json:"created_at"`
}

// Step is one tool call of an agent turn: the tool, its arguments and result.
type Step struct {
	Tool      string `json:"tool"`
	Arguments JSON   `json:"arguments"`
	Result    JSON   `json:"result"`
}
