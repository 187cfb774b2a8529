package agents

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hibiken/asynq"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/compaction"
	"spass/shared/jobs"
	"spass/shared/requestid"
	"spass/shared/web"
)

// A session belongs to the user who opened it; another user's or tenant's
// session is session_not_found on every route. A tenant admin without
// SPASS-User-Id reads (never changes) its tenant's sessions.

// sessionObject is a session on the wire; times are unix seconds.
type sessionObject struct {
	ID        string     `json:"id"`
	Object    string     `json:"object"`
	Agent     string     `json:"agent"`
	User      string     `json:"user"`
	Overrides agent.JSON `json:"overrides"`
	Segment   int        `json:"segment"`
	Messages  int        `json:"messages"`
	CreatedAt int64      `json:"created_at"`
	UpdatedAt int64      `json:"updated_at"`
}

func toSessionObject(s agent.Session) sessionObject {
	return sessionObject{ID: s.ID, Object: "agent.session", Agent: s.Agent, User: s.UserID, Overrides: s.Overrides,
		Segment: s.Segment, Messages: s.Messages, CreatedAt: s.CreatedAt / 1000, UpdatedAt: s.UpdatedAt / 1000}
}

// messageObject is a stored message: the OpenAI message, and an agent reply's steps.
type messageObject struct {
	Seq       int64      `json:"seq"`
	Message   agent.JSON `json:"message"`
	Steps     agent.JSON `json:"steps,omitempty"`
	Status    string     `json:"status"`
	Turn      string     `json:"turn"`
	CreatedAt int64      `json:"created_at"`
}

func toMessageObject(m agent.Message) messageObject {
	o := messageObject{Seq: m.Seq, Message: m.Body, Status: m.Status, Turn: m.Turn, CreatedAt: m.CreatedAt / 1000}
	if m.Role == "assistant" {
		o.Steps = m.Steps
	}
	return o
}

// createSession serves "POST /a1/agents/{name}/sessions" with optional overrides.
func createSession(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ag, err := findAgent(a, r, r.PathValue("name"))
		if err != nil {
			return err
		}
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		var req struct {
			Overrides agent.Overrides `json:"overrides"`
		}
		if len(body) > 0 {
			if err := web.Decode(body, &req); err != nil {
				return err
			}
		}
		eff, err := ag.Apply(req.Overrides)
		if err != nil {
			return invalid(err)
		}
		if a.Router.Model(eff.Model) == nil {
			return apierr.P(apierr.InvalidAgent, "overrides.model", "The model "+apierr.Quote(eff.Model)+" is not served by this gateway.")
		}
		ov, _ := json.Marshal(req.Overrides)
		p := auth.From(r.Context())
		s := agent.Session{TenantID: p.Tenant, UserID: p.User, Agent: ag.Name, Overrides: ov}
		if err := a.Store.CreateSession(r.Context(), &s); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusCreated, toSessionObject(s))
	}
}

// listSessions serves "GET /a1/agents/{name}/sessions", newest first.
func listSessions(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := findAgent(a, r, r.PathValue("name")); err != nil {
			return err
		}
		limit, err := web.QueryLimit(r, 20, 100)
		if err != nil {
			return err
		}
		p := auth.From(r.Context())
		ss, err := a.Store.Sessions(r.Context(), p.Tenant, p.User, r.PathValue("name"), limit)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		data := make([]sessionObject, len(ss))
		for i, s := range ss {
			data[i] = toSessionObject(s)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	}
}

// getSession serves "GET /a1/sessions/{id}".
func getSession(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := findSession(a, r)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, toSessionObject(s))
	}
}

// deleteSession serves "DELETE /a1/sessions/{id}": messages and lineage go too.
func deleteSession(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		ok, err := a.Store.DeleteSession(r.Context(), p.Tenant, p.User, r.PathValue("id"))
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			return apierr.E(apierr.SessionNotFound, "", nil)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "object": "agent.session.deleted", "deleted": true})
	}
}

// sessionMessages serves "GET /a1/sessions/{id}/messages?after=&limit=": every
// message in order, whatever segment, failed turns included.
func sessionMessages(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := findSession(a, r)
		if err != nil {
			return err
		}
		limit, after, err := web.SeqPage(r)
		if err != nil {
			return err
		}
		ms, err := a.Store.SessionMessages(r.Context(), s.TenantID, s.ID, after, limit+1, false)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		ms, more := web.Page(ms, limit)
		data := make([]messageObject, len(ms))
		for i, m := range ms {
			data[i] = toMessageObject(m)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": more})
	}
}

// lineage serves "GET /a1/sessions/{id}/lineage": the segments in order, each with
// its summary, its facts and the original messages it holds.
func lineage(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := findSession(a, r)
		if err != nil {
			return err
		}
		segs, err := a.Store.Segments(r.Context(), s.TenantID, s.ID)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		ms, err := a.Store.SessionMessages(r.Context(), s.TenantID, s.ID, 0, 1<<30, false)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		type segmentObject struct {
			agent.Segment
			Messages []messageObject `json:"messages"`
		}
		data := make([]segmentObject, len(segs))
		j := 0
		for i, seg := range segs {
			seg.CreatedAt /= 1000 // unix seconds, as every time on the wire
			data[i] = segmentObject{Segment: seg, Messages: []messageObject{}}
			for j < len(ms) && (i+1 == len(segs) || ms[j].Seq < segs[i+1].StartSeq) {
				data[i].Messages = append(data[i].Messages, toMessageObject(ms[j]))
				j++
			}
		}
		return web.JSON(w, http.StatusOK, map[string]any{"object": "list", "session": s.ID, "data": data})
	}
}

// compact serves "POST /a1/sessions/{id}/compact": the session:compact job is
// enqueued (202). Without a job runner (a Lambda function without Redis) it runs
// here and answers 200 with the outcome.
func compact(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := findSession(a, r)
		if err != nil {
			return err
		}
		p := auth.From(r.Context())
		_, err = jobs.EnqueueCompact(r.Context(), a.Jobs, p, s.ID)
		switch {
		case err == nil, errors.Is(err, asynq.ErrTaskIDConflict):
			return web.JSON(w, http.StatusAccepted, map[string]any{"session": s.ID, "object": "agent.session.compaction", "status": "queued"})
		case !errors.Is(err, jobs.ErrNotStarted):
			return apierr.E(apierr.Internal, "", err)
		}
		done, err := a.Compaction.Run(r.Context(), p, s.ID, requestid.From(r.Context()))
		if errors.Is(err, compaction.ErrBusy) {
			return apierr.E(apierr.SessionBusy, "", nil)
		}
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"session": s.ID, "object": "agent.session.compaction", "status": "done", "compacted": done})
	}
}

// findSession is the caller's session of the path ("" user: the tenant's).
func findSession(a *app.App, r *http.Request) (agent.Session, error) {
	p := auth.From(r.Context())
	s, ok, err := a.Store.Session(r.Context(), p.Tenant, p.User, r.PathValue("id"))
	if err != nil {
		return s, apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return s, apierr.E(apierr.SessionNotFound, "", nil)
	}
	return s, nil
}
