package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/auth"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/web"
)

// JSON-RPC 2.0 and A2A error codes.
const (
	rpcParse             = -32700
	rpcInvalidRequest    = -32600
	rpcMethodNotFound    = -32601
	rpcInvalidParams     = -32602
	rpcInternal          = -32603
	rpcTaskNotFound      = -32001
	rpcTaskNotCancelable = -32002
	rpcContentType       = -32005
)

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return e.Message }

type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// reply writes a JSON-RPC response: always HTTP 200, the outcome in the body.
func reply(w http.ResponseWriter, id json.RawMessage, result any, err *rpcError) error {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return web.JSON(w, http.StatusOK, rpcResponse{JSONRPC: "2.0", ID: id, Result: result, Error: err})
}

// rpc serves "POST /v1/a2a/{agent}": one JSON-RPC request (batches are not part
// of A2A). An agent that is not exposed is the gateway's 404, before any JSON-RPC.
func (h *a2aHandler) rpc(w http.ResponseWriter, r *http.Request) error {
	ag, err := h.exposed(r, r.PathValue("agent"))
	if err != nil {
		return err
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return reply(w, nil, nil, &rpcError{rpcParse, "The body is not a JSON-RPC request: " + apierr.Clip(err.Error(), 200)})
	}
	if req.JSONRPC != "2.0" || req.Method == "" {
		return reply(w, req.ID, nil, &rpcError{rpcInvalidRequest, `Send {"jsonrpc":"2.0","id":...,"method":...,"params":{...}}.`})
	}
	p := auth.From(r.Context())
	switch req.Method {
	case "message/send", "message/stream":
		var params struct {
			Message       a2aMessage `json:"message"`
			Configuration struct {
				Blocking      *bool `json:"blocking"`
				HistoryLength *int  `json:"historyLength"`
			} `json:"configuration"`
		}
		if err := strictParams(req.Params, &params); err != nil {
			return reply(w, req.ID, nil, err)
		}
		stream := req.Method == "message/stream"
		t, task, rerr := h.start(r.Context(), p, ag, params.Message, stream)
		if rerr != nil {
			return reply(w, req.ID, nil, rerr)
		}
		if stream {
			return h.stream(w, r, req.ID, t, task)
		}
		n := -1
		if params.Configuration.HistoryLength != nil {
			n = *params.Configuration.HistoryLength
		}
		if params.Configuration.Blocking != nil && !*params.Configuration.Blocking {
			h.background(t, task)
			return reply(w, req.ID, taskView(task, n), nil)
		}
		return reply(w, req.ID, taskView(h.runTask(r.Context(), t, task, &chat.Memory{}), n), nil)
	case "tasks/get", "tasks/cancel":
		var params struct {
			ID            string `json:"id"`
			HistoryLength *int   `json:"historyLength"`
		}
		if err := strictParams(req.Params, &params); err != nil {
			return reply(w, req.ID, nil, err)
		}
		task, ok, err := h.a.Store.Task(r.Context(), p.Tenant, p.User, params.ID)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok || task.Agent != ag.Name {
			return reply(w, req.ID, nil, &rpcError{rpcTaskNotFound, "Task not found"})
		}
		if req.Method == "tasks/cancel" {
			if task, err = h.cancel(r.Context(), task); err != nil {
				var re *rpcError
				if errors.As(err, &re) {
					return reply(w, req.ID, nil, re)
				}
				return apierr.E(apierr.Internal, "", err)
			}
		}
		n := -1
		if params.HistoryLength != nil {
			n = *params.HistoryLength
		}
		return reply(w, req.ID, taskView(task, n), nil)
	}
	return reply(w, req.ID, nil, &rpcError{rpcMethodNotFound, "Method not found: " + apierr.Quote(req.Method) +
		"; this agent answers message/send, message/stream, tasks/get and tasks/cancel."})
}

// strictParams decodes params; a missing or malformed object is invalid params.
func strictParams(raw json.RawMessage, v any) *rpcError {
	if len(bytes.TrimSpace(raw)) == 0 {
		return &rpcError{rpcInvalidParams, "params are required"}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &rpcError{rpcInvalidParams, "Invalid params: " + apierr.Clip(err.Error(), 200)}
	}
	return nil
}

// start checks the message, finds or opens the session that is its contextId,
// leases it, prepares the turn and stores the task as working. The caller runs the
// turn (runTask), which releases the lease.
func (h *a2aHandler) start(ctx context.Context, p identity.Principal, ag agent.Agent, m a2aMessage, stream bool) (*agentTurn, agent.Task, *rpcError) {
	var task agent.Task
	if m.Role != "user" {
		return nil, task, &rpcError{rpcInvalidParams, `message.role must be "user"`}
	}
	if m.MessageID == "" {
		return nil, task, &rpcError{rpcInvalidParams, "message.messageId is required"}
	}
	var text []string
	for _, part := range m.Parts {
		if part.Kind != "text" {
			return nil, task, &rpcError{rpcContentType, "Only text parts are supported; got a " + apierr.Quote(part.Kind) + " part."}
		}
		text = append(text, part.Text)
	}
	joined := strings.TrimSpace(strings.Join(text, "\n"))
	if joined == "" {
		return nil, task, &rpcError{rpcInvalidParams, "message.parts must hold some text"}
	}
	if m.TaskID != "" {
		return nil, task, &rpcError{rpcInvalidParams, "Tasks of this agent end with their turn: send the next message with the task's contextId and no taskId."}
	}
	var sess agent.Session
	if m.ContextID != "" {
		s, ok, err := h.a.Store.Session(ctx, p.Tenant, p.User, m.ContextID)
		if err != nil {
			return nil, task, &rpcError{rpcInternal, "Internal error"}
		}
		if !ok || s.Agent != ag.Name {
			return nil, task, &rpcError{rpcInvalidParams, "Unknown contextId: send none to start a new context."}
		}
		sess = s
	} else {
		sess = agent.Session{TenantID: p.Tenant, UserID: p.User, Agent: ag.Name}
		if err := h.a.Store.CreateSession(ctx, &sess); err != nil {
			return nil, task, &rpcError{rpcInternal, "Internal error"}
		}
	}
	t := &agentTurn{a: h.a, p: p, id: requestid.From(ctx), sess: sess, stream: stream,
		user: chat.Message{Role: "user", Content: joined}}
	if err := t.load(ctx); err != nil {
		return nil, task, &rpcError{rpcInternal, apierr.Clip(err.Error(), 200)}
	}
	leased, err := h.a.Store.LeaseSession(ctx, p.Tenant, sess.ID, time.Now().Add(h.a.Config.Routing.ResponseTimeout.Duration+time.Minute).UnixMilli())
	if err != nil {
		return nil, task, &rpcError{rpcInternal, "Internal error"}
	}
	if !leased {
		return nil, task, &rpcError{rpcInvalidParams, "The context is busy with another task; send again when it ends."}
	}
	m.ContextID, m.Kind = sess.ID, "message"
	task = agent.Task{TenantID: p.Tenant, UserID: p.User, Agent: ag.Name, SessionID: sess.ID, Turn: t.id, State: agent.TaskWorking}
	// The id is known once stored: store first, then the message that names it.
	task.Message = agent.JSON(`{}`)
	if err := h.a.Store.CreateTask(ctx, &task); err != nil {
		h.a.Store.ReleaseSession(context.WithoutCancel(ctx), p.Tenant, sess.ID)
		return nil, task, &rpcError{rpcInternal, "Internal error"}
	}
	m.TaskID = task.ID
	task.Message, _ = json.Marshal(m)
	if err := h.a.Store.SetTaskMessage(ctx, p.Tenant, task.ID, task.Message); err != nil {
		h.a.Store.ReleaseSession(context.WithoutCancel(ctx), p.Tenant, sess.ID)
		return nil, task, &rpcError{rpcInternal, "Internal error"}
	}
	return t, task, nil
}

// runTask runs the task's turn to its end under a context tasks/cancel can cancel,
// releases the session and returns the task as stored.
func (h *a2aHandler) runTask(ctx context.Context, t *agentTurn, task agent.Task, sink chat.Sink) agent.Task {
	ctx, cancel := context.WithCancel(ctx)
	h.mu.Lock()
	h.running[task.ID] = cancel
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.running, task.ID)
		h.mu.Unlock()
		cancel()
	}()
	defer h.a.Store.ReleaseSession(context.WithoutCancel(ctx), t.p.Tenant, t.sess.ID)
	out, err := t.exec(ctx, sink, turnHooks{})
	state, text, code := agent.TaskCompleted, out.Reply.Message.Text(), ""
	var ae *apierr.Error
	switch {
	case ctx.Err() != nil:
		state, code = agent.TaskCanceled, "canceled"
	case errors.As(err, &ae):
		state, code = agent.TaskFailed, string(ae.Code)
	case err != nil || out.Result.Interrupted:
		state, code = agent.TaskFailed, string(apierr.Internal)
	}
	bg := context.WithoutCancel(ctx)
	if _, err := h.a.Store.EndTask(bg, t.p.Tenant, task.ID, state, text, code); err != nil {
		task.State, task.Error = agent.TaskFailed, string(apierr.Internal)
		return task
	}
	if stored, ok, err := h.a.Store.Task(bg, t.p.Tenant, "", task.ID); err == nil && ok {
		return stored
	}
	return task
}

// background runs a non-blocking task after the response: it outlives the
// request (on the host; a Lambda function is frozen once it answered).
func (h *a2aHandler) background(t *agentTurn, task agent.Task) {
	ctx := auth.WithPrincipal(requestid.With(context.Background(), t.id), t.p)
	ctx, cancel := context.WithTimeout(ctx, h.a.Config.Routing.ResponseTimeout.Duration+time.Minute)
	go func() {
		defer cancel()
		h.runTask(ctx, t, task, &chat.Memory{})
	}()
}

// cancel ends a task that is still running as canceled and stops its turn when
// this process runs it; a task that is over is not cancelable.
func (h *a2aHandler) cancel(ctx context.Context, task agent.Task) (agent.Task, error) {
	if agent.TaskTerminal(task.State) {
		return task, &rpcError{rpcTaskNotCancelable, "Task cannot be canceled: it is " + task.State}
	}
	ok, err := h.a.Store.EndTask(ctx, task.TenantID, task.ID, agent.TaskCanceled, "", "canceled")
	if err != nil {
		return task, err
	}
	h.mu.Lock()
	stop := h.running[task.ID]
	h.mu.Unlock()
	if stop != nil {
		stop()
	}
	stored, found, err := h.a.Store.Task(ctx, task.TenantID, "", task.ID)
	if err != nil || !found {
		return task, err
	}
	if !ok && stored.State != agent.TaskCanceled { // it ended meanwhile
		return stored, &rpcError{rpcTaskNotCancelable, "Task cannot be canceled: it is " + stored.State}
	}
	return stored, nil
}
