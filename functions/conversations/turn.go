package conversations

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/chat"
	"spass/shared/config"
	"spass/shared/conversation"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/router"
	"spass/shared/web"
)

// turnRequest is the body of POST /c1/chat.
type turnRequest struct {
	ConversationID string `json:"conversation_id"`
	Model          string `json:"model"`
	Provider       string `json:"provider"`
	// Message is the user's message: a string or OpenAI content parts.
	Message json.RawMessage `json:"message"`
	// Messages carries tool results ({role: tool, tool_call_id, content}) for the
	// tool calls of the previous turn.
	Messages       []chat.Message  `json:"messages"`
	Tools          json.RawMessage `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	Stream         bool            `json:"stream"`
	SystemPrompt   *string         `json:"system_prompt"`
	ResponseFormat json.RawMessage `json:"response_format"`
	Metadata       json.RawMessage `json:"metadata"`
}

// turnAnswer is a non-streamed /c1/chat answer.
type turnAnswer struct {
	ConversationID string       `json:"conversation_id"`
	Message        chat.Message `json:"message"`
	FinishReason   string       `json:"finish_reason"`
	Usage          usage        `json:"usage"`
	Model          string       `json:"model"`
	Backend        string       `json:"backend"`
	Tier           int          `json:"tier"`
	TurnsLeftOut   int          `json:"turns_left_out"`
}

type usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// turn is one /c1/chat request on its way: the conversation, what it sends.
type turn struct {
	a        *app.App
	p        identity.Principal
	req      turnRequest
	conv     conversation.Conversation
	model    *router.Model
	provider string
	fresh    []chat.Message // the user message and tool results this turn adds
	id       string         // the turn's request id
}

// chatTurn serves "POST /c1/chat".
func chatTurn(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		t := &turn{a: a, p: auth.From(r.Context()), id: requestid.From(r.Context())}
		if err := web.Decode(body, &t.req); err != nil {
			return err
		}
		if err := t.prepare(r.Context()); err != nil {
			return err
		}
		w.Header().Set(HeaderConversation, t.conv.ID)
		return t.run(r.Context(), w, chat.ToolsHeader(r.Header.Get(chat.HeaderTools)))
	}
}

// prepare validates the request, finds or creates the conversation, resolves the
// model and provider, and takes the conversation for this turn.
func (t *turn) prepare(ctx context.Context) error {
	if err := t.newMessages(); err != nil {
		return err
	}
	if t.req.Provider != "" && !slices.Contains(config.ProviderChoices, t.req.Provider) {
		return apierr.P(apierr.InvalidRequest, "provider", "provider must be local, station, cloud or auto.")
	}
	if string(t.req.Metadata) == "null" {
		t.req.Metadata = nil // as if absent, as for the other optional fields
	}
	if err := checkMetadata(t.req.Metadata); err != nil {
		return err
	}
	if err := t.conversation(ctx); err != nil {
		return err
	}
	if err := t.resolveModel(); err != nil {
		return err
	}
	until := time.Now().Add(t.a.Config.Routing.ResponseTimeout.Duration + time.Minute).UnixMilli()
	ok, err := t.a.Store.LeaseConversation(ctx, t.p.Tenant, t.conv.ID, until)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return apierr.E(apierr.ConversationBusy, "", nil)
	}
	if err := t.saveSettings(ctx); err != nil {
		t.end(ctx, nil)
		return apierr.E(apierr.Internal, "", err)
	}
	return nil
}

// newMessages reads the user message and the tool results.
func (t *turn) newMessages() error {
	for i, m := range t.req.Messages {
		if m.Role != "tool" || m.ToolCallID == "" {
			return apierr.P(apierr.InvalidRequest, fmt.Sprintf("messages[%d]", i), "messages carries tool results only: {role: tool, tool_call_id, content}.")
		}
		t.fresh = append(t.fresh, m)
	}
	if len(t.req.Message) > 0 && string(t.req.Message) != "null" {
		var m chat.Message
		if err := json.Unmarshal([]byte(`{"role":"user","content":`+string(t.req.Message)+`}`), &m); err != nil {
			return apierr.P(apierr.InvalidRequest, "message", "message must be a string or an array of content parts.")
		}
		if m.Text() == "" && len(m.Parts) == 0 {
			return apierr.P(apierr.InvalidRequest, "message", "message must not be empty.")
		}
		t.fresh = append(t.fresh, m)
	}
	if len(t.fresh) == 0 {
		return apierr.P(apierr.MissingParameter, "message", "Send a message, or tool results in messages.")
	}
	return nil
}

// conversation loads the caller's conversation, or creates one.
func (t *turn) conversation(ctx context.Context) error {
	st := t.a.Store
	if t.req.ConversationID == "" {
		t.conv = conversation.Conversation{TenantID: t.p.Tenant, UserID: t.p.User, Metadata: t.req.Metadata,
			Title: title(t.fresh[len(t.fresh)-1])}
		if t.req.SystemPrompt != nil {
			t.conv.SystemPrompt = *t.req.SystemPrompt
		}
		if err := st.CreateConversation(ctx, &t.conv); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return nil
	}
	c, ok, err := st.Conversation(ctx, t.p.Tenant, t.p.User, t.req.ConversationID)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return apierr.P(apierr.ConversationNotFound, "conversation_id", "")
	}
	t.conv = c
	if t.req.SystemPrompt != nil {
		t.conv.SystemPrompt = *t.req.SystemPrompt // stored by saveSettings, under the lease
	}
	return nil
}

// saveSettings stores a continuing turn's system prompt and metadata. prepare calls
// it once the turn holds the conversation, so a turn refused as busy changes nothing.
func (t *turn) saveSettings(ctx context.Context) error {
	if t.req.ConversationID == "" || (t.req.SystemPrompt == nil && t.req.Metadata == nil) {
		return nil // a new conversation was created with them
	}
	return t.a.Store.SetConversationSettings(ctx, t.p.Tenant, t.conv.ID, t.conv.SystemPrompt, t.req.Metadata)
}

// resolveModel picks the model: the request's, else the conversation's last, else
// the configured default, else the first chat model the tenant may use. A request
// that names neither model nor provider keeps the conversation's provider too.
func (t *turn) resolveModel() error {
	id, provider := t.req.Model, t.req.Provider
	if id == "" {
		id = t.conv.Model
	}
	if t.req.Model == "" && provider == "" {
		provider = t.conv.Provider
	}
	if id == "" {
		id = t.a.Config.Conversations.DefaultModel
	}
	if id == "" {
		for _, m := range t.a.Router.Models() {
			if m.Serves("chat") {
				id = m.ID
				break
			}
		}
	}
	t.model = t.a.Router.Model(id)
	if t.model == nil {
		return chat.ModelNotFound(id)
	}
	t.provider = provider
	return nil
}

// title is the start of a conversation's first message.
func title(m chat.Message) string {
	s := m.Text()
	for len(s) > 80 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
