package tenant

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"spass/shared/apierr"
	"spass/shared/auth"
	"spass/shared/identity"
	"spass/shared/store"
	"spass/shared/web"
)

// Named system prompts, per tenant (scope tenant) and per end user (scope user),
// that a chat request names with SPASS-System-Prompt; the user's prompt of a name
// shadows the tenant's. Everyone in the tenant reads the tenant's prompts; only
// admin and tenant_admin change them. A user's prompts are that user's alone, and
// read-only changes nothing. Another user's prompt reads as system_prompt_not_found.

// promptObject is a system prompt on the wire; times are unix seconds.
type promptObject struct {
	Object    string `json:"object"`
	Name      string `json:"name"`
	Scope     string `json:"scope"`
	Content   string `json:"content"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

func toPromptObject(sp store.SystemPrompt) promptObject {
	scope := "user"
	if sp.Owner == "" {
		scope = "tenant"
	}
	return promptObject{Object: "system_prompt", Name: sp.Name, Scope: scope, Content: sp.Content,
		CreatedAt: sp.CreatedAt / 1000, UpdatedAt: sp.UpdatedAt / 1000}
}

// promptOwner maps a scope ("" = user) to the owner column, and checks that p may
// write there when write is set.
func promptOwner(p identity.Principal, scope string, write bool, param string, code apierr.Code) (string, error) {
	var owner string
	switch scope {
	case "", "user":
		owner = p.User
		if write && p.Role == identity.RoleReadOnly {
			return "", apierr.E(apierr.PermissionDenied, "The read-only role may not change system prompts.", nil)
		}
	case "tenant":
		if write && !p.CanWrite() {
			return "", apierr.E(apierr.PermissionDenied, "Only admin and tenant_admin may change the tenant's system prompts.", nil)
		}
	default:
		return "", apierr.P(code, param, "scope must be user or tenant.")
	}
	return owner, nil
}

func checkPrompt(content string) error {
	if strings.TrimSpace(content) == "" {
		return apierr.P(apierr.MissingParameter, "content", "content must not be empty.")
	}
	if len(content) > store.MaxPromptBytes || !utf8.ValidString(content) {
		return apierr.P(apierr.InvalidRequest, "content", "content must be valid UTF-8 of at most "+strconv.Itoa(store.MaxPromptBytes)+" bytes.")
	}
	return nil
}

func promptNotFound(name string) error {
	return apierr.P(apierr.SystemPromptNotFound, "name", "No system prompt named "+apierr.Quote(name)+".")
}

// createPrompt serves "POST /v1/system-prompts" {name, content, scope}: create or
// replace, 201 when created.
func createPrompt(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		var body struct{ Name, Content, Scope string }
		if err := readObject(r, &body); err != nil {
			return err
		}
		if !store.PromptName.MatchString(body.Name) {
			return apierr.P(apierr.InvalidRequest, "name", "name must match ^[a-z0-9][a-z0-9_.-]{0,63}$.")
		}
		if err := checkPrompt(body.Content); err != nil {
			return err
		}
		owner, err := promptOwner(p, body.Scope, true, "scope", apierr.InvalidRequest)
		if err != nil {
			return err
		}
		sp, created, err := db.SaveSystemPrompt(r.Context(), p.Tenant, owner, body.Name, body.Content, p.Token)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.Saved(w, created, toPromptObject(sp))
	}
}

// listPrompts serves "GET /v1/system-prompts": the tenant's and the caller's own.
func listPrompts(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		prompts, err := db.SystemPrompts(r.Context(), p.Tenant, p.User)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, listOf(prompts, toPromptObject))
	}
}

// getPrompt serves "GET /v1/system-prompts/{name}?scope=". Without a scope it
// returns the prompt a chat request naming it would get: the user's, else the
// tenant's.
func getPrompt(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		name, scope := r.PathValue("name"), r.URL.Query().Get("scope")
		owners := []string{p.User, ""}
		if scope != "" {
			owner, err := promptOwner(p, scope, false, "scope", apierr.InvalidQuery)
			if err != nil {
				return err
			}
			owners = []string{owner}
		}
		for _, owner := range owners {
			sp, ok, err := db.SystemPromptByName(r.Context(), p.Tenant, owner, name)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			if ok {
				return web.JSON(w, http.StatusOK, toPromptObject(sp))
			}
		}
		return promptNotFound(name)
	}
}

// updatePrompt serves "PUT /v1/system-prompts/{name}?scope=" {content}; the
// prompt must exist (scope defaults to user).
func updatePrompt(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		var body struct{ Content string }
		if err := readObject(r, &body); err != nil {
			return err
		}
		if err := checkPrompt(body.Content); err != nil {
			return err
		}
		owner, err := promptOwner(p, r.URL.Query().Get("scope"), true, "scope", apierr.InvalidQuery)
		if err != nil {
			return err
		}
		sp, ok, err := db.UpdateSystemPrompt(r.Context(), p.Tenant, owner, r.PathValue("name"), body.Content, p.Token)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			return promptNotFound(r.PathValue("name"))
		}
		return web.JSON(w, http.StatusOK, toPromptObject(sp))
	}
}

// deletePrompt serves "DELETE /v1/system-prompts/{name}?scope=" (scope defaults
// to user, so a user never removes the shared prompt by accident).
func deletePrompt(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		owner, err := promptOwner(p, r.URL.Query().Get("scope"), true, "scope", apierr.InvalidQuery)
		if err != nil {
			return err
		}
		name := r.PathValue("name")
		gone, err := db.DeleteSystemPrompt(r.Context(), p.Tenant, owner, name)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !gone {
			return promptNotFound(name)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"name": name, "object": "system_prompt.deleted", "deleted": true})
	}
}
