package tenant

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/auth"
	"spass/shared/identity"
	"spass/shared/memory"
	"spass/shared/store"
	"spass/shared/tools"
	"spass/shared/web"
)

// /v1/memory is the HTTP face of the memory the stack tools use; tools.MemoryAccess
// decides every read and write here as it does for the tools. Every route needs
// SPASS-User-Id because the user scope belongs to that user. An entry the caller
// may not read (another tenant's, another user's) is memory_not_found, never a
// 403, so ids reveal nothing; one it may read but not change is a 403.

// agentName is the form of an agent name in the agent scope.
var agentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// memoryObject is an entry on the wire; times are unix seconds.
type memoryObject struct {
	ID        string   `json:"id"`
	Object    string   `json:"object"`
	Scope     string   `json:"scope"`
	Agent     string   `json:"agent,omitempty"`
	Key       string   `json:"key"`
	Content   string   `json:"content"`
	Tags      []string `json:"tags"`
	CreatedAt int64    `json:"created_at"`
	UpdatedAt int64    `json:"updated_at"`
}

func toMemoryObject(e memory.Entry) memoryObject {
	o := memoryObject{ID: e.ID, Object: "memory", Scope: e.Scope, Key: e.Key, Content: e.Content, Tags: e.Tags,
		CreatedAt: e.CreatedAt / 1000, UpdatedAt: e.UpdatedAt / 1000}
	if e.Scope == memory.ScopeAgent {
		o.Agent = e.Owner
	}
	return o
}

// memoryPlace resolves scope ("" = user) and agent to the place p addresses.
func memoryPlace(p identity.Principal, scope, agent string) (memory.Place, *apierr.Error) {
	switch scope {
	case "", memory.ScopeUser, memory.ScopeTenant:
		if agent != "" {
			return memory.Place{}, apierr.P(apierr.InvalidRequest, "agent", "agent is only valid with scope agent.")
		}
		if scope == memory.ScopeTenant {
			return memory.Place{Scope: scope}, nil
		}
		return memory.Place{Scope: memory.ScopeUser, Owner: p.User}, nil
	case memory.ScopeAgent:
		if !agentName.MatchString(agent) {
			return memory.Place{}, apierr.P(apierr.InvalidRequest, "agent", "scope agent needs an agent name (letters, digits, _ . -, at most 64).")
		}
		return memory.Place{Scope: scope, Owner: agent}, nil
	}
	return memory.Place{}, apierr.P(apierr.InvalidRequest, "scope", "scope must be user, tenant or agent.")
}

// readObject reads a JSON object body into v, refusing user_id (end users are
// named by SPASS-User-Id only).
func readObject(r *http.Request, v any) error {
	b, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	if !gjson.ValidBytes(b) || !gjson.ParseBytes(b).IsObject() {
		return apierr.E(apierr.InvalidJSON, "", nil)
	}
	if gjson.GetBytes(b, "user_id").Exists() {
		return apierr.P(apierr.UserIDInBody, "user_id", "")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return apierr.E(apierr.InvalidJSON, "The body does not match the expected fields: "+err.Error(), nil)
	}
	return nil
}

func checkMemory(key, content string, tags []string) error {
	if field, problem := tools.ValidateMemory(key, content, tags); field != "" {
		return apierr.P(apierr.InvalidRequest, field, problem+".")
	}
	return nil
}

func memoryDenied(scope string) error {
	return apierr.E(apierr.PermissionDenied, "Your role may not change "+scope+" memory.", nil)
}

// saveMemory serves "POST /v1/memory": upsert by key, 201 when created.
func saveMemory(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		var body struct {
			Scope, Key, Content, Agent string
			Tags                       []string
		}
		if err := readObject(r, &body); err != nil {
			return err
		}
		pl, perr := memoryPlace(p, body.Scope, body.Agent)
		if perr != nil {
			return perr
		}
		if err := checkMemory(body.Key, body.Content, body.Tags); err != nil {
			return err
		}
		if _, write := tools.MemoryAccess(p, pl.Scope, pl.Owner); !write {
			return memoryDenied(pl.Scope)
		}
		e, created, err := db.SaveMemory(r.Context(), p.Tenant, memory.Entry{Scope: pl.Scope, Owner: pl.Owner, Key: body.Key, Content: body.Content, Tags: body.Tags})
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.Saved(w, created, toMemoryObject(e))
	}
}

// listMemory serves "GET /v1/memory?scope=&agent=&q=&limit=". Without a scope it
// lists everything the caller may read: its user scope, the tenant's and every
// agent's (or one agent's, with agent=).
func listMemory(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		q := r.URL.Query()
		var places []memory.Place
		switch scope, agent := q.Get("scope"), q.Get("agent"); {
		case scope != "" || agent != "":
			if scope == "" {
				scope = memory.ScopeAgent
			}
			pl, err := memoryPlace(p, scope, agent)
			if err != nil {
				err.Code = apierr.InvalidQuery // the same check, on query parameters
				return err
			}
			places = []memory.Place{pl}
		default:
			places = []memory.Place{{Scope: memory.ScopeUser, Owner: p.User}, {Scope: memory.ScopeTenant}, {Scope: memory.ScopeAgent, AnyOwner: true}}
		}
		text := q.Get("q")
		if len(text) > 500 {
			return apierr.P(apierr.InvalidQuery, "q", "q must be at most 500 bytes.")
		}
		limit, err := web.QueryLimit(r, 50, 200)
		if err != nil {
			return err
		}
		found, err := db.FindMemory(r.Context(), p.Tenant, memory.Query{Places: places, Text: text, Limit: limit})
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, listOf(found, toMemoryObject))
	}
}

// readableMemory returns the tenant's entry id if p may read it.
func readableMemory(r *http.Request, db *store.DB, p identity.Principal) (memory.Entry, error) {
	id := r.PathValue("id")
	e, ok, err := db.GetMemory(r.Context(), p.Tenant, id)
	if err != nil {
		return e, apierr.E(apierr.Internal, "", err)
	}
	if read, _ := tools.MemoryAccess(p, e.Scope, e.Owner); !ok || !read {
		return e, apierr.P(apierr.MemoryNotFound, "id", "No memory entry "+apierr.Quote(id)+".")
	}
	return e, nil
}

// getMemory serves "GET /v1/memory/{id}".
func getMemory(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := readableMemory(r, db, auth.From(r.Context()))
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, toMemoryObject(e))
	}
}

// updateMemory serves "PUT /v1/memory/{id}" {content?, tags?}.
func updateMemory(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		var body struct {
			Content *string
			Tags    []string
		}
		if err := readObject(r, &body); err != nil {
			return err
		}
		if body.Content == nil && body.Tags == nil {
			return apierr.P(apierr.MissingParameter, "content", "Send content, tags or both.")
		}
		e, err := readableMemory(r, db, p)
		if err != nil {
			return err
		}
		content := e.Content
		if body.Content != nil {
			content = *body.Content
		}
		if err := checkMemory(e.Key, content, body.Tags); err != nil {
			return err
		}
		if _, write := tools.MemoryAccess(p, e.Scope, e.Owner); !write {
			return memoryDenied(e.Scope)
		}
		e, _, err = db.UpdateMemory(r.Context(), p.Tenant, e.ID, body.Content, body.Tags)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, toMemoryObject(e))
	}
}

// deleteMemory serves "DELETE /v1/memory/{id}".
func deleteMemory(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		e, err := readableMemory(r, db, p)
		if err != nil {
			return err
		}
		if _, write := tools.MemoryAccess(p, e.Scope, e.Owner); !write {
			return memoryDenied(e.Scope)
		}
		if _, err := db.DeleteMemory(r.Context(), p.Tenant, e.ID); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"id": e.ID, "object": "memory.deleted", "deleted": true})
	}
}
