package agents

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/chat"
	"spass/shared/compaction"
	"spass/shared/identity"
	"spass/shared/rag"
	"spass/shared/requestid"
	"spass/shared/web"
)

// turnAnswer is a non-streamed turn's answer.
type turnAnswer struct {
	Session   string       `json:"session_id"`
	Message   chat.Message `json:"message"`
	Steps     []chat.Step  `json:"steps"`
	Usage     usage        `json:"usage"`
	Model     string       `json:"model"`
	Backend   string       `json:"backend"`
	Compacted int          `json:"compacted"` // compactions run before this turn
}

type usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// agentTurn is one POST /a1/sessions/{id}/messages on its way.
type agentTurn struct {
	a      *app.App
	p      identity.Principal
	sess   agent.Session
	ag     agent.Agent // with the session's overrides
	pol    compaction.Policy
	id     string // the turn's request id
	user   chat.Message
	stream bool
	rag    string // passages of the agent's rag_index for this turn (passive RAG)
}

// turn serves "POST /a1/sessions/{id}/messages" with {content, stream?}: it
// replays the session, runs the agent's tool loop, and keeps everything.
func turn(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t := &agentTurn{a: a, p: auth.From(r.Context()), id: requestid.From(r.Context())}
		if err := t.read(r); err != nil {
			return err
		}
		ctx := r.Context()
		leased, err := a.Store.LeaseSession(ctx, t.p.Tenant, t.sess.ID, time.Now().Add(a.Config.Routing.ResponseTimeout.Duration+time.Minute).UnixMilli())
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !leased {
			return apierr.E(apierr.SessionBusy, "", nil)
		}
		defer a.Store.ReleaseSession(context.WithoutCancel(ctx), t.p.Tenant, t.sess.ID)
		return t.run(ctx, w)
	}
}

// read parses the body and loads the session and its agent.
func (t *agentTurn) read(r *http.Request) error {
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Content json.RawMessage `json:"content"`
		Stream  bool            `json:"stream"`
	}
	if err := web.Decode(body, &req); err != nil {
		return err
	}
	if len(req.Content) == 0 || string(req.Content) == "null" {
		return apierr.P(apierr.MissingParameter, "content", "Send the user's message as content.")
	}
	if err := json.Unmarshal([]byte(`{"role":"user","content":`+string(req.Content)+`}`), &t.user); err != nil || (t.user.Text() == "" && len(t.user.Parts) == 0) {
		return apierr.P(apierr.InvalidRequest, "content", "content must be a non-empty string or an array of content parts.")
	}
	t.stream = req.Stream
	if t.sess, err = findSession(t.a, r); err != nil {
		return err
	}
	return t.load(r.Context())
}

// load finds the session's agent, applies the session's overrides and reads the
// compaction policy: what a turn needs beside its message, from any surface
// (POST /a1/sessions/{id}/messages, A2A).
func (t *agentTurn) load(ctx context.Context) error {
	ag, ok, err := t.a.FindAgent(ctx, t.p.Tenant, t.sess.Agent)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return apierr.P(apierr.AgentNotFound, "agent", "The session's agent "+apierr.Quote(t.sess.Agent)+" no longer exists.")
	}
	ov, err := agent.DecodeOverrides(t.sess.Overrides)
	if err == nil {
		ag, err = ag.Apply(ov)
	}
	if err != nil {
		return invalid(err)
	}
	t.ag = ag
	t.pol = t.a.Compaction.PolicyOf(ctx, t.p.Tenant, ag)
	return nil
}

// run sends the turn to the HTTP client: a JSON answer, or a stream that opens
// with the agent.turn.start event and carries each step as agent.step.
func (t *agentTurn) run(ctx context.Context, w http.ResponseWriter) error {
	var held *chat.Held
	var sink chat.Sink = &chat.Memory{}
	if t.stream {
		held = &chat.Held{Sink: chat.HTTP(w)}
		sink = held
	}
	out, err := t.exec(ctx, sink, turnHooks{
		Start: func(compacted int) {
			if held != nil {
				held.First, _ = json.Marshal(map[string]any{"object": "agent.turn.start", "session_id": t.sess.ID, "agent": t.ag.Name, "turn": t.id, "compacted": compacted})
			}
		},
		Step: func(s chat.Step) {
			if held != nil {
				b, _ := json.Marshal(struct {
					Object string `json:"object"`
					chat.Step
				}{"agent.step", s})
				held.Emit(b)
			}
		}})
	if err != nil {
		return err
	}
	if held != nil {
		held.Close()
		return nil
	}
	for k, v := range sink.Header() {
		w.Header()[k] = v
	}
	res := out.Result
	return web.JSON(w, http.StatusOK, turnAnswer{Session: t.sess.ID, Message: out.Reply.Message, Steps: out.Steps, Model: res.Model, Backend: res.Backend,
		Usage: usage{res.Usage.Prompt, res.Usage.Completion, res.Usage.Prompt + res.Usage.Completion}, Compacted: out.Compacted})
}

// turnHooks let a surface follow a turn: Start once the session fits the window
// (before the model is asked), Step after each tool call.
type turnHooks struct {
	Start func(compacted int)
	Step  func(chat.Step)
}

// turnOutput is what a turn produced.
type turnOutput struct {
	Result    chat.Result
	Reply     chat.Reply
	Steps     []chat.Step // never nil
	Compacted int
}

// exec fits the session into the window, sends the turn through the chat core
// with the agent's tools only, delivering the answer to sink, and keeps the user
// message, the reply and its steps. The caller holds the session's lease.
func (t *agentTurn) exec(ctx context.Context, sink chat.Sink, hooks turnHooks) (turnOutput, error) {
	var out turnOutput
	t.passages(ctx)
	win, compacted, err := t.fit(ctx)
	if err != nil {
		return out, err
	}
	out.Compacted = compacted
	if err := t.a.Store.AddSessionMessages(ctx, t.p.Tenant, t.sess.ID, t.id, agent.StatusPending, []agent.Message{stored(t.user, nil)}); err != nil {
		return out, apierr.E(apierr.Internal, "", err)
	}
	req, history, err := t.request(win)
	if err != nil {
		t.end(ctx, nil, nil)
		return out, err
	}
	if hooks.Start != nil {
		hooks.Start(compacted)
	}
	opts := chat.Options{Surface: chat.SurfaceA1, Ref: t.sess.ID, Agent: t.ag.Name, Session: t.sess.ID, History: history,
		Tools: chat.ToolPolicy{None: len(t.ag.Tools) == 0, Names: t.ag.Tools, MaxRounds: t.ag.MaxRounds},
		OnStep: func(s chat.Step) {
			out.Steps = append(out.Steps, s)
			if hooks.Step != nil {
				hooks.Step(s)
			}
		}}
	res, err := t.a.Chat.Complete(ctx, t.p, req, opts, sink)
	app.Trace(ctx, res, t.stream)
	out.Result = res
	if err != nil {
		t.end(ctx, nil, nil)
		return out, err
	}
	out.Reply = res.Reply()
	if res.Interrupted {
		t.end(ctx, nil, nil)
	} else {
		t.end(ctx, &out.Reply, out.Steps)
	}
	if out.Steps == nil {
		out.Steps = []chat.Step{}
	}
	return out, nil
}

// fit compacts the session until the turn's prompt fits under the policy's limit:
// first keeping the agent's last turns, then fewer, down to none. It returns the
// window the turn replays and how many compactions ran. A message that cannot
// fit even alone is context_overflow.
func (t *agentTurn) fit(ctx context.Context) (compaction.Window, int, error) {
	keep, compacted := t.pol.Keep, 0
	for {
		win, err := t.a.Compaction.Load(ctx, t.p.Tenant, t.sess)
		if err != nil {
			return win, compacted, apierr.E(apierr.Internal, "", err)
		}
		need := t.tokens(win)
		if need <= t.pol.Limit() {
			return win, compacted, nil
		}
		ok, err := t.a.Compaction.Compact(ctx, t.p, t.sess, t.ag, keep, t.pol.Window, t.id)
		if err != nil {
			return win, compacted, apierr.E(apierr.Internal, "", err)
		}
		if ok {
			compacted++
			t.sess.Segment++
			continue
		}
		if keep > 0 {
			keep--
			continue
		}
		if need <= t.pol.Window {
			return win, compacted, nil // over the threshold, under the window: nothing left to compact
		}
		return win, compacted, apierr.E(apierr.ContextOverflow, "", nil)
	}
}

// ragPassages is how many passages of the agent's index a turn adds.
const ragPassages = 4

// passages finds the passages of the agent's rag_index that fit the user's
// message (passive RAG). Their embedding is billed as a sub-call of the turn. A
// failure (the index deleted, the embedding model down) leaves the turn without
// passages rather than failing it; it is logged.
func (t *agentTurn) passages(ctx context.Context) {
	if t.ag.RAGIndex == "" || t.a.RAG == nil {
		return
	}
	rctx := requestid.With(ctx, t.id+"-rag")
	ps, err := t.a.RAG.Passages(rctx, t.p, t.ag.RAGIndex, t.user.Text(), ragPassages, chat.Options{Surface: chat.SurfaceA1,
		Ref: t.sess.ID, Agent: t.ag.Name, Session: t.sess.ID, Parent: t.id})
	if err != nil {
		slog.Warn("a1: no passages for the turn", "request_id", t.id, "index", t.ag.RAGIndex, "err", err)
		return
	}
	t.rag = rag.FormatPassages(t.ag.RAGIndex, ps)
}

// tokens estimates the turn's prompt: system prompt, summary, replayed messages,
// the new message and the tool definitions the model is offered.
func (t *agentTurn) tokens(win compaction.Window) int {
	n := chat.EstimateTokens([]byte(t.ag.SystemPrompt))
	if win.Summary != nil {
		n += chat.EstimateTokens([]byte(win.Summary.Content))
	}
	n += chat.EstimateTokens([]byte(t.rag))
	for _, m := range win.Messages {
		n += m.Tokens
	}
	b, _ := json.Marshal(t.user)
	n += chat.EstimateTokens(b)
	for _, name := range t.ag.Tools {
		if tool, ok := t.a.Tools.Get(name); ok {
			n += chat.EstimateTokens(tool.Definition())
		}
	}
	return n
}

// request builds the turn's chat request: the system prompt and the summary
// first, the replayed messages as the core's history, then the user message.
func (t *agentTurn) request(win compaction.Window) (*chat.Request, []chat.Message, error) {
	var msgs []chat.Message
	if t.ag.SystemPrompt != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: t.ag.SystemPrompt})
	}
	if win.Summary != nil {
		msgs = append(msgs, *win.Summary)
	}
	if t.rag != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: t.rag})
	}
	msgs = append(msgs, t.user)
	req, err := chat.NewRequest(t.ag.Model, msgs, chat.Params{Temperature: t.ag.Temperature, MaxTokens: t.ag.MaxTokens, Stream: t.stream})
	if err != nil {
		return nil, nil, err
	}
	history := make([]chat.Message, 0, len(win.Messages))
	for _, m := range win.Messages {
		var cm chat.Message
		if err := json.Unmarshal(m.Body, &cm); err != nil {
			return nil, nil, apierr.E(apierr.Internal, "", err)
		}
		history = append(history, cm)
	}
	return req, history, nil
}

// end closes the turn in the store: with a reply (and its steps) the turn joins
// the session, without one its message is marked failed.
func (t *agentTurn) end(ctx context.Context, reply *chat.Reply, steps []chat.Step) {
	var kept *agent.Message
	if reply != nil {
		m := stored(reply.Message, steps)
		kept = &m
	}
	if err := t.a.Store.EndSessionTurn(context.WithoutCancel(ctx), t.p.Tenant, t.sess.ID, t.id, kept); err != nil {
		slog.Error("a1: closing a turn failed", "request_id", t.id, "session", t.sess.ID, "err", err)
	}
}

// stored is a chat message as the session keeps it.
func stored(m chat.Message, steps []chat.Step) agent.Message {
	b, _ := json.Marshal(m)
	s, _ := json.Marshal(steps)
	if steps == nil {
		s = []byte(`[]`)
	}
	return agent.Message{Role: m.Role, Body: b, Steps: s, Tokens: chat.EstimateTokens(b)}
}
