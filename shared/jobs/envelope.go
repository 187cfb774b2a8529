package jobs

import (
	"context"
	"maps"

	"github.com/hibiken/asynq"

	"spass/shared/identity"
	"spass/shared/requestid"
)

// The envelope: who a task runs as and which request it is, carried in asynq task
// headers (stored with the task in Redis, kept with it in-process) beside the
// kind's own payload, so no payload repeats them.
const (
	HeaderTenant = "spass-tenant"
	HeaderUser   = "spass-user"
	HeaderRole   = "spass-role"
	HeaderToken  = "spass-token"
	// HeaderRequestID is the job's own request id: its log lines and ledger rows
	// are filed under it, the same on every retry, and no other request shares it.
	HeaderRequestID = "spass-request-id"
	// HeaderOrigin is the request id of the request that enqueued the job.
	HeaderOrigin = "spass-origin-request-id"
)

// NewTaskAs builds a task of kind typ that runs as p: the handler finds p with
// Principal(ctx). A tenant's job kind builds its tasks with it; system tasks
// (rollups) use asynq.NewTask and run as nobody.
func NewTaskAs(p identity.Principal, typ string, payload []byte, opts ...asynq.Option) *asynq.Task {
	h := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			h[k] = v
		}
	}
	set(HeaderTenant, p.Tenant)
	set(HeaderUser, p.User)
	set(HeaderRole, p.Role)
	set(HeaderToken, p.Token)
	return asynq.NewTaskWithHeaders(typ, payload, h, opts...)
}

// stamp returns t with its request ids: its own (unless its constructor chose one)
// and the enqueuing request's. It copies t, which may be enqueued again (a
// periodic task is), so every enqueue gets a fresh id. The copy carries no
// options of t: asynq keeps them private, which is why kinds declare theirs.
func stamp(ctx context.Context, t *asynq.Task) *asynq.Task {
	h := maps.Clone(t.Headers())
	if h == nil {
		h = map[string]string{}
	}
	if h[HeaderRequestID] == "" {
		h[HeaderRequestID] = requestid.New()
	}
	if o := requestid.From(ctx); o != "" && h[HeaderOrigin] == "" {
		h[HeaderOrigin] = o
	}
	return asynq.NewTaskWithHeaders(t.Type(), t.Payload(), h)
}

type principalKey struct{}
type originKey struct{}

// Principal returns whom the running job was enqueued as (zero for system jobs).
func Principal(ctx context.Context) identity.Principal {
	p, _ := ctx.Value(principalKey{}).(identity.Principal)
	return p
}

// Origin returns the request id of the request that enqueued the running job.
func Origin(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

// open puts t's envelope into ctx: its request id (a new one for a task enqueued
// without the envelope, by a bare asynq.Client), principal and origin.
func open(ctx context.Context, t *asynq.Task) context.Context {
	h := t.Headers()
	if id := h[HeaderRequestID]; id != "" {
		ctx = requestid.With(ctx, id)
	} else {
		ctx = requestid.With(ctx, requestid.New())
	}
	p := identity.Principal{Tenant: h[HeaderTenant], User: h[HeaderUser], Role: h[HeaderRole], Token: h[HeaderToken]}
	if p != (identity.Principal{}) {
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	if o := h[HeaderOrigin]; o != "" {
		ctx = context.WithValue(ctx, originKey{}, o)
	}
	return ctx
}
