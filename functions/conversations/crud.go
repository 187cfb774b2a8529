package conversations

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/conversation"
	"spass/shared/store"
	"spass/shared/web"
)

// Another user's or tenant's conversation is conversation_not_found on every
// route: ids reveal nothing. A tenant admin without SPASS-User-Id reads (never
// changes) every conversation of its tenant.

// conversationObject is a conversation on the wire; times are unix seconds.
type conversationObject struct {
	ID        string          `json:"id"`
	Object    string          `json:"object"`
	User      string          `json:"user"`
	Title     string          `json:"title"`
	Metadata  json.RawMessage `json:"metadata"`
	Model     string          `json:"model"`
	Provider  string          `json:"provider,omitempty"`
	Messages  int             `json:"messages"`
	CreatedAt int64           `json:"created_at"`
	UpdatedAt int64           `json:"updated_at"`
}

func toObject(c conversation.Conversation) conversationObject {
	md := c.Metadata
	if len(md) == 0 {
		md = json.RawMessage(`{}`)
	}
	return conversationObject{ID: c.ID, Object: "conversation", User: c.UserID, Title: c.Title, Metadata: md,
		Model: c.Model, Provider: c.Provider, Messages: c.Messages, CreatedAt: c.CreatedAt / 1000, UpdatedAt: c.UpdatedAt / 1000}
}

// messageObject is a kept message: its OpenAI message object and where it stands.
type messageObject struct {
	Seq       int64           `json:"seq"`
	Message   json.RawMessage `json:"message"`
	Status    string          `json:"status"`
	Turn      string          `json:"turn"`
	CreatedAt int64           `json:"created_at"`
}

// list serves "GET /c1/conversations?limit=&after=": newest first.
func list(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		limit, err := web.QueryLimit(r, 20, 100)
		if err != nil {
			return err
		}
		page, err := parseCursor(r.URL.Query().Get("after"))
		if err != nil {
			return err
		}
		cs, err := a.Store.Conversations(r.Context(), p.Tenant, p.User, page, limit+1)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		cs, more := web.Page(cs, limit)
		data := make([]conversationObject, len(cs))
		for i, c := range cs {
			data[i] = toObject(c)
		}
		out := map[string]any{"object": "list", "data": data, "has_more": more}
		if more {
			last := cs[len(cs)-1]
			out["next_cursor"] = cursor(last.UpdatedAt, last.ID)
		}
		return web.JSON(w, http.StatusOK, out)
	}
}

// get serves "GET /c1/conversations/{id}?after=&limit=": the conversation and a
// page of its messages in order.
func get(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		c, err := find(a, r, p.User)
		if err != nil {
			return err
		}
		limit, after, err := web.SeqPage(r)
		if err != nil {
			return err
		}
		ms, err := a.Store.ConversationMessages(r.Context(), p.Tenant, c.ID, after, limit+1)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		ms, more := web.Page(ms, limit)
		msgs := make([]messageObject, len(ms))
		for i, m := range ms {
			msgs[i] = messageObject{Seq: m.Seq, Message: m.Body, Status: m.Status, Turn: m.Turn, CreatedAt: m.CreatedAt / 1000}
		}
		return web.JSON(w, http.StatusOK, struct {
			conversationObject
			SystemPrompt string          `json:"system_prompt,omitempty"`
			Data         []messageObject `json:"data"`
			HasMore      bool            `json:"has_more"`
		}{toObject(c), c.SystemPrompt, msgs, more})
	}
}

// patch serves "PATCH /c1/conversations/{id}": title and metadata.
func patch(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		var req struct {
			Title    *string         `json:"title"`
			Metadata json.RawMessage `json:"metadata"`
		}
		if err := web.Decode(body, &req); err != nil {
			return err
		}
		if req.Title != nil && len(*req.Title) > 200 {
			return apierr.P(apierr.InvalidRequest, "title", "title must be at most 200 bytes.")
		}
		if err := checkMetadata(req.Metadata); err != nil {
			return err
		}
		c, ok, err := a.Store.UpdateConversation(r.Context(), p.Tenant, p.User, r.PathValue("id"), req.Title, req.Metadata)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			return apierr.E(apierr.ConversationNotFound, "", nil)
		}
		return web.JSON(w, http.StatusOK, toObject(c))
	}
}

// remove serves "DELETE /c1/conversations/{id}": the messages go too.
func remove(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		id := r.PathValue("id")
		ok, err := a.Store.DeleteConversation(r.Context(), p.Tenant, p.User, id)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			return apierr.E(apierr.ConversationNotFound, "", nil)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"id": id, "object": "conversation.deleted", "deleted": true})
	}
}

// checkMetadata refuses metadata (when given) that is not a JSON object of at
// most 16 KiB: a turn and PATCH both set it, and every reader expects an object.
func checkMetadata(md json.RawMessage) error {
	if md != nil && (len(md) > 16<<10 || !strings.HasPrefix(strings.TrimSpace(string(md)), "{")) {
		return apierr.P(apierr.InvalidRequest, "metadata", "metadata must be a JSON object of at most 16 KiB.")
	}
	return nil
}

// find loads the path's conversation for user ("" = any of the tenant's).
func find(a *app.App, r *http.Request, user string) (conversation.Conversation, error) {
	c, ok, err := a.Store.Conversation(r.Context(), auth.From(r.Context()).Tenant, user, r.PathValue("id"))
	if err != nil {
		return c, apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return c, apierr.E(apierr.ConversationNotFound, "", nil)
	}
	return c, nil
}

// cursor encodes where a listing continues.
func cursor(updatedAt int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(updatedAt, 10) + ":" + id))
}

func parseCursor(s string) (store.ConversationPage, error) {
	if s == "" {
		return store.ConversationPage{}, nil
	}
	bad := apierr.P(apierr.InvalidQuery, "after", "after must be a next_cursor from an earlier page.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.ConversationPage{}, bad
	}
	ts, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return store.ConversationPage{}, bad
	}
	return store.ConversationPage{UpdatedAt: n, ID: id}, nil
}
