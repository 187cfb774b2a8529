package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/compaction"
	"spass/shared/identity"
	"spass/shared/requestid"
)

// TypeCompact compacts one agent session (POST /a1/sessions/{id}/compact). It
// takes the session's lease, so it never runs beside a turn; one task per
// session lives at a time (see EnqueueCompact).
const TypeCompact = "session:compact"

func compactOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueCompaction), asynq.MaxRetry(6), asynq.Timeout(10 * time.Minute)}
}

// CompactPayload names the session.
type CompactPayload struct {
	Session string `json:"session"`
}

// EnqueueCompact enqueues the compaction of p's session; a second one while the
// first lives is refused with asynq.ErrTaskIDConflict.
func EnqueueCompact(ctx context.Context, e Enqueuer, p identity.Principal, session string) (*asynq.TaskInfo, error) {
	b, _ := json.Marshal(CompactPayload{Session: session})
	return e.Enqueue(ctx, NewTaskAs(p, TypeCompact, b, compactOptions()...), asynq.TaskID("compact:"+p.Tenant+":"+session))
}

// CompactHandler compacts sessions.
type CompactHandler struct {
	Compaction *compaction.Service
}

// ProcessTask compacts the session as the task's principal. A busy session is
// retried later; a session or agent that is gone ends the task.
func (h *CompactHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p CompactPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Session == "" {
		return Invalid(fmt.Errorf("compact payload: %v", err))
	}
	who := Principal(ctx)
	if who.Tenant == "" {
		return Invalid(errors.New("compact task without a principal"))
	}
	_, err := h.Compaction.Run(ctx, who, p.Session, requestid.From(ctx))
	switch {
	case errors.Is(err, agent.ErrNotFound):
		return Invalid(err)
	case err != nil:
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// CompactKind is the compaction job on svc.
func CompactKind(svc *compaction.Service) Kind {
	return Kind{Type: TypeCompact, Options: compactOptions(), Handler: &CompactHandler{Compaction: svc}}
}
