package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/batch"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/store"
)

// TypeInference runs one chat completion or embeddings request through the chat
// core, off the request path: a batch line, a queued chat. Its result is stored
// once under (ref, key).
const TypeInference = "inference:chat"

// inferenceOptions: the interactive queue; a model that cannot answer within ten
// minutes is down, and a few retries cover a backend's restart. Batch lines are
// enqueued on QueueBatch with the batch retries instead (Batches).
func inferenceOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueInference), asynq.MaxRetry(5), asynq.Timeout(lineTimeout)}
}

// lineTimeout bounds one attempt of an inference job.
const lineTimeout = 10 * time.Minute

// InferencePayload is one request to run.
type InferencePayload struct {
	// Body is a request body for Endpoint; a chat body must not ask for a stream.
	Body json.RawMessage `json:"body"`
	// Endpoint is /v1/chat/completions (when empty) or /v1/embeddings.
	Endpoint string `json:"endpoint,omitempty"`
	// Surface files the ledger rows (batch unless set); Ref is the batch (or other
	// owner) id, Key the job's name within it (a batch line's custom_id).
	Surface string `json:"surface,omitempty"`
	Ref     string `json:"ref"`
	Key     string `json:"key"`
	// Tools is the stack tool choice, as the SPASS-Tools header says it: "none",
	// a list of names, or "" for every tool the tenant allows.
	Tools string `json:"tools,omitempty"`
	// Batch marks a line of the /v1/batches batch Ref: it runs only while the
	// batch is in progress and within the batch gate, and its result is counted
	// in the batch (see Batches).
	Batch bool `json:"batch,omitempty"`
}

// NewInferenceTask builds the task that runs p's request.
func NewInferenceTask(p identity.Principal, payload InferencePayload) (*asynq.Task, error) {
	if payload.Ref == "" || payload.Key == "" {
		return nil, errors.New("jobs: an inference task needs a ref and a key")
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return NewTaskAs(p, TypeInference, b, inferenceOptions()...), nil
}

// EnqueueInference enqueues p's request as one task per key, with opts after the
// kind's: a second enqueue of the key while the first task lives is refused with
// asynq.ErrTaskIDConflict, and one after it finds the stored result and stops.
func EnqueueInference(ctx context.Context, e Enqueuer, p identity.Principal, payload InferencePayload, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	t, err := NewInferenceTask(p, payload)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256([]byte(p.Tenant + "\x00" + payload.Ref + "\x00" + payload.Key))
	return e.Enqueue(ctx, t, append(slices.Clip(opts), asynq.TaskID("inference:"+hex.EncodeToString(id[:16])))...)
}

// Results keeps each inference job's one result; *store.DB implements it.
type Results interface {
	JobResult(ctx context.Context, tenant, ref, key string) (store.JobResult, bool, error)
	SaveJobResult(ctx context.Context, r store.JobResult) (bool, error)
}

// InferenceHandler runs requests on the chat core and keeps their results.
type InferenceHandler struct {
	Chat    *chat.Service
	Results Results
	// Batches runs batch lines; without it they are refused.
	Batches *Batches
}

// runFunc runs a payload's request, each upstream attempt passing gate (nil: none).
type runFunc func(ctx context.Context, who identity.Principal, p InferencePayload, gate func(context.Context, string) (func(), error)) (chat.Result, []byte, error)

// ProcessTask runs the request as the task's principal, into memory, and stores
// the answer or the caller's error. Failures a retry may cure (the backends down
// or rate limited) are retried; on the last attempt they are stored too, so every
// job ends with exactly one result. A job whose result exists does not run again.
func (h *InferenceHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p InferencePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Ref == "" || p.Key == "" {
		return Invalid(fmt.Errorf("inference payload: %v", err))
	}
	who := Principal(ctx)
	if who.Tenant == "" {
		return Invalid(errors.New("inference task without a principal"))
	}
	if p.Batch {
		if h.Batches == nil {
			return Invalid(errors.New("a batch line, and this runner has no batches"))
		}
		return h.Batches.runLine(ctx, who, p, h.run)
	}
	if _, done, err := h.Results.JobResult(ctx, who.Tenant, p.Ref, p.Key); err != nil {
		return Failed(apierr.JobFailed, err)
	} else if done {
		return nil
	}
	res, body, err := h.run(ctx, who, p, nil)
	status, body, retry := outcome(ctx, err, body, LastAttempt(ctx))
	if retry != nil {
		return retry
	}
	_, err = h.Results.SaveJobResult(context.WithoutCancel(ctx), store.JobResult{TenantID: who.Tenant, Ref: p.Ref, Key: p.Key,
		RequestID: res.RequestID, Status: status, Body: body})
	if err != nil {
		return Failed(apierr.JobFailed, err)
	}
	return nil
}

// run parses the body for its endpoint and runs it into memory.
func (h *InferenceHandler) run(ctx context.Context, who identity.Principal, p InferencePayload, gate func(context.Context, string) (func(), error)) (chat.Result, []byte, error) {
	surface := chat.Surface(p.Surface)
	if surface == "" {
		surface = chat.SurfaceBatch
	}
	opts := chat.Options{Surface: surface, Ref: p.Ref, Tools: chat.ToolsHeader(p.Tools), Gate: gate}
	sink := &chat.Memory{}
	switch p.Endpoint {
	case "", batch.EndpointChat:
		req, err := chat.ParseChat(p.Body)
		if err != nil {
			return chat.Result{}, nil, err
		}
		if req.Stream {
			return chat.Result{}, nil, apierr.P(apierr.InvalidRequest, "stream", "A queued completion cannot stream: remove stream.")
		}
		res, err := h.Chat.Complete(ctx, who, req, opts, sink)
		return res, sink.Body, err
	case batch.EndpointEmbeddings:
		req, err := chat.ParseEmbeddings(p.Body)
		if err != nil {
			return chat.Result{}, nil, err
		}
		res, err := h.Chat.Embed(ctx, who, req, opts, sink)
		return res, sink.Body, err
	}
	return chat.Result{}, nil, apierr.P(apierr.InvalidRequest, "url", "The endpoint "+apierr.Quote(p.Endpoint)+" cannot be queued.")
}

// retryable reports whether a later attempt may succeed: the backends were down,
// timed out or rate limited, or the gateway failed.
func retryable(e *apierr.Error) bool {
	s := e.Status()
	return s == http.StatusTooManyRequests || s >= 500
}

// InferenceKind is the inference job on the chat core, storing into results;
// batches runs the batch lines (nil refuses them).
func InferenceKind(c *chat.Service, results Results, batches *Batches) Kind {
	return Kind{Type: TypeInference, Options: inferenceOptions(), Handler: &InferenceHandler{Chat: c, Results: results, Batches: batches}}
}
