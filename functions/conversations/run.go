package conversations

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/chat"
	"spass/shared/conversation"
	"spass/shared/router"
	"spass/shared/web"
)

// defaultWindow is the context window of a model whose window is unknown.
const defaultWindow = 8192

// run sends the turn through the chat core and keeps its outcome: the new messages
// are stored as pending first; the answer makes them part of the history, a failed
// or cut turn marks them failed. The conversation is released either way.
func (t *turn) run(ctx context.Context, w http.ResponseWriter, tools chat.ToolPolicy) error {
	req, history, leftOut, err := t.request(ctx)
	if err == nil {
		err = t.a.Store.BeginTurn(ctx, t.p.Tenant, t.conv.ID, t.id, t.stored(t.fresh))
		if err != nil {
			err = apierr.E(apierr.Internal, "", err)
		}
	}
	if err != nil {
		t.end(ctx, nil)
		return err
	}
	opts := chat.Options{Surface: chat.SurfaceC1, Ref: t.conv.ID, History: history, Tools: tools,
		Filter: router.Filter{Tiers: t.a.Config.Conversations.Providers[t.provider]}}
	if t.req.Stream {
		return t.stream(ctx, w, req, opts)
	}
	sink := &chat.Memory{}
	res, err := t.a.Chat.Complete(ctx, t.p, req, opts, sink)
	app.Trace(ctx, res, false)
	if err != nil {
		t.end(ctx, nil)
		return err
	}
	reply := res.Reply()
	t.end(ctx, &reply)
	for k, v := range sink.Header() {
		w.Header()[k] = v
	}
	return web.JSON(w, http.StatusOK, turnAnswer{
		ConversationID: t.conv.ID, Message: reply.Message, FinishReason: reply.FinishReason,
		Usage: usage{res.Usage.Prompt, res.Usage.Completion, res.Usage.Prompt + res.Usage.Completion},
		Model: res.Model, Backend: res.Backend, Tier: res.Tier, TurnsLeftOut: leftOut,
	})
}

// stream relays the turn as SSE: a first event with the conversation id, the
// model's chunks, the usage chunk; [DONE] only once the answer is kept, so a
// client that starts the next turn at [DONE] never finds this one still running.
func (t *turn) stream(ctx context.Context, w http.ResponseWriter, req *chat.Request, opts chat.Options) error {
	sink := &chat.Held{Sink: chat.HTTP(w), First: t.firstEvent()}
	res, err := t.a.Chat.Complete(ctx, t.p, req, opts, sink)
	app.Trace(ctx, res, true)
	if err != nil {
		t.end(ctx, nil)
		return err
	}
	if res.Interrupted {
		t.end(ctx, nil)
	} else {
		reply := res.Reply()
		t.end(ctx, &reply)
	}
	sink.Close()
	return nil
}

// firstEvent is the stream's opening chunk: no choices, the conversation id.
func (t *turn) firstEvent() []byte {
	b, _ := json.Marshal(map[string]any{"id": t.id, "object": "chat.completion.chunk", "model": t.model.ID,
		"conversation_id": t.conv.ID, "choices": []any{}})
	return b
}

// request builds the turn's chat request (system prompt and new messages; the
// history goes in through the core's options) and loads the newest history that
// fits the model's window with the new messages, a reply's room kept free.
func (t *turn) request(ctx context.Context) (*chat.Request, []chat.Message, int, error) {
	var msgs []chat.Message
	if t.conv.SystemPrompt != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: t.conv.SystemPrompt})
	}
	msgs = append(msgs, t.fresh...)
	body := struct {
		Model          string          `json:"model"`
		Messages       []chat.Message  `json:"messages"`
		Tools          json.RawMessage `json:"tools,omitempty"`
		ToolChoice     json.RawMessage `json:"tool_choice,omitempty"`
		ResponseFormat json.RawMessage `json:"response_format,omitempty"`
		Stream         bool            `json:"stream,omitempty"`
		StreamOptions  map[string]bool `json:"stream_options,omitempty"`
	}{Model: t.model.ID, Messages: msgs, Tools: t.req.Tools, ToolChoice: t.req.ToolChoice, ResponseFormat: t.req.ResponseFormat, Stream: t.req.Stream}
	if t.req.Stream {
		body.StreamOptions = map[string]bool{"include_usage": true}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, nil, 0, apierr.E(apierr.InvalidRequest, "", err)
	}
	req, err := chat.ParseChat(raw)
	if err != nil {
		return nil, nil, 0, err
	}
	window := t.model.ContextWindow
	if window <= 0 {
		window = defaultWindow
	}
	budget := window*3/4 - chat.EstimateTokens(raw)
	kept, leftOut, err := t.a.Store.RecentMessages(ctx, t.p.Tenant, t.conv.ID, max(budget, 0), t.conv.Messages)
	if err != nil {
		return nil, nil, 0, apierr.E(apierr.Internal, "", err)
	}
	// A history must not open on a reply or a tool result whose question was left out.
	for len(kept) > 0 && kept[0].Role != "user" {
		kept, leftOut = kept[1:], leftOut+1
	}
	history := make([]chat.Message, 0, len(kept))
	for _, m := range kept {
		var cm chat.Message
		if err := json.Unmarshal(m.Body, &cm); err != nil {
			return nil, nil, 0, apierr.E(apierr.Internal, "", err)
		}
		history = append(history, cm)
	}
	return req, history, leftOut, nil
}

// stored turns chat messages into conversation messages with their sizes.
func (t *turn) stored(msgs []chat.Message) []conversation.Message {
	out := make([]conversation.Message, len(msgs))
	for i, m := range msgs {
		b, _ := json.Marshal(m)
		out[i] = conversation.Message{Role: m.Role, Body: b, Tokens: chat.EstimateTokens(b)}
	}
	return out
}

// end closes the turn: with the reply it joins the history, without it the
// turn's messages are marked failed. The client may be gone: the store is not.
func (t *turn) end(ctx context.Context, reply *chat.Reply) {
	var kept *conversation.Message
	if reply != nil {
		m := t.stored([]chat.Message{reply.Message})[0]
		kept = &m
	}
	if err := t.a.Store.EndTurn(context.WithoutCancel(ctx), t.p.Tenant, t.conv.ID, t.id, kept, t.model.ID, t.provider); err != nil {
		slog.Error("c1: closing a turn failed", "request_id", t.id, "conversation", t.conv.ID, "err", err)
	}
}
