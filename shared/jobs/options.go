package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// asynq's defaults, which the in-process runner mirrors.
const (
	defaultQueue    = "default"
	defaultMaxRetry = 25
	defaultTimeout  = 30 * time.Minute
)

// plan is a task's options after composition, read through asynq's public Option
// API (Type and Value), the last option of a type winning as in asynq.
type plan struct {
	queue     string
	taskID    string
	maxRetry  int
	timeout   time.Duration
	deadline  time.Time
	unique    time.Duration
	processAt time.Time
	retention time.Duration
	group     string
}

// compose reads opts as asynq.Client does, with the same defaults and checks.
func compose(opts []asynq.Option) (plan, error) {
	p := plan{queue: defaultQueue, maxRetry: defaultMaxRetry}
	for _, o := range opts {
		switch o.Type() {
		case asynq.MaxRetryOpt:
			p.maxRetry, _ = o.Value().(int)
		case asynq.QueueOpt:
			p.queue, _ = o.Value().(string)
		case asynq.TaskIDOpt:
			p.taskID, _ = o.Value().(string)
			if strings.TrimSpace(p.taskID) == "" {
				return plan{}, errors.New("jobs: task ID cannot be empty")
			}
		case asynq.TimeoutOpt:
			p.timeout, _ = o.Value().(time.Duration)
		case asynq.DeadlineOpt:
			p.deadline, _ = o.Value().(time.Time)
		case asynq.UniqueOpt:
			p.unique, _ = o.Value().(time.Duration)
			if p.unique < time.Second {
				return plan{}, errors.New("jobs: Unique TTL cannot be less than 1s")
			}
		case asynq.ProcessAtOpt:
			p.processAt, _ = o.Value().(time.Time)
		case asynq.ProcessInOpt:
			d, _ := o.Value().(time.Duration)
			p.processAt = time.Now().Add(d)
		case asynq.RetentionOpt:
			p.retention, _ = o.Value().(time.Duration)
		case asynq.GroupOpt:
			p.group, _ = o.Value().(string)
		}
	}
	if _, ok := Queues()[p.queue]; !ok {
		return plan{}, fmt.Errorf("%w %q (queues: %v)", ErrUnknownQueue, p.queue, Queues())
	}
	if p.taskID == "" {
		var b [16]byte
		rand.Read(b[:])
		p.taskID = hex.EncodeToString(b[:])
	}
	return p, nil
}

// registry holds the kinds an Enqueuer accepts.
type registry map[string]Kind

// newRegistry checks that each kind is named once and that its options compose
// into a served queue, so a mistake fails at start, not at the first Enqueue.
func newRegistry(kinds []Kind) (registry, error) {
	r := registry{}
	for _, k := range kinds {
		if k.Type == "" || k.Handler == nil {
			return nil, fmt.Errorf("jobs: kind %q needs a type and a handler", k.Type)
		}
		if _, dup := r[k.Type]; dup {
			return nil, fmt.Errorf("jobs: kind %q registered twice", k.Type)
		}
		if _, err := compose(k.Options); err != nil {
			return nil, fmt.Errorf("jobs: kind %q: %w", k.Type, err)
		}
		r[k.Type] = k
	}
	return r, nil
}

// prepare is the part of Enqueue both runners share: the kind's options then the
// caller's, composed and checked, and the task stamped with its envelope.
func (r registry) prepare(ctx context.Context, t *asynq.Task, opts []asynq.Option) (*asynq.Task, []asynq.Option, plan, error) {
	if t == nil {
		return nil, nil, plan{}, errors.New("jobs: nil task")
	}
	k, ok := r[t.Type()]
	if !ok {
		return nil, nil, plan{}, fmt.Errorf("%w %q", ErrUnknownKind, t.Type())
	}
	all := append(slices.Clip(k.Options), opts...)
	p, err := compose(all)
	if err != nil {
		return nil, nil, plan{}, err
	}
	return stamp(ctx, t), all, p, nil
}
