package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"spass/shared/identity"
	"spass/shared/memory"
	"strings"
	"time"
	"unicode/utf8"
)

// MemoryStore is what the memory tools and /v1/memory need from storage;
// *store.DB implements it. Every method is scoped by tenant. SaveMemory upserts by
// (scope, owner, key), generating a key when it is empty, keeps the stored tags when
// e.Tags is nil, and reports whether it created the entry.
type MemoryStore interface {
	SaveMemory(ctx context.Context, tenant string, e memory.Entry) (memory.Entry, bool, error)
	GetMemory(ctx context.Context, tenant, id string) (memory.Entry, bool, error)
	FindMemory(ctx context.Context, tenant string, q memory.Query) ([]memory.Entry, error)
	DeleteMemory(ctx context.Context, tenant, id string) (bool, error)
	SummarizeMemory(ctx context.Context, tenant string, places []memory.Place, keys int) ([]memory.Summary, error)
}

// MemoryAccess is the one permission rule for memory, shared by /v1/memory and the
// memory tools so the model can never do more than its user could over HTTP. A
// user's scope belongs to that end user alone (for every role: the admin's token
// does not open Alice's notes); tenant and agent scopes are readable by every role
// and writable by admin and tenant_admin. read-only never writes.
func MemoryAccess(p identity.Principal, scope, owner string) (read, write bool) {
	switch scope {
	case memory.ScopeUser:
		own := p.User != "" && owner == p.User
		return own, own && p.Role != identity.RoleReadOnly
	case memory.ScopeTenant, memory.ScopeAgent:
		return true, p.CanWrite()
	}
	return false, false
}

// ValidateMemory checks an entry against the limits. It returns the offending field
// and the reason, or "" when the entry fits; an empty key is fine (one is generated).
func ValidateMemory(key, content string, tags []string) (field, problem string) {
	if len(key) > memory.MaxKey || !printable(key) || key != "" && strings.TrimSpace(key) == "" {
		return "key", fmt.Sprintf("key must be 1-%d printable characters", memory.MaxKey)
	}
	if strings.TrimSpace(content) == "" {
		return "content", "content must not be empty"
	}
	if len(content) > memory.MaxContent || !utf8.ValidString(content) {
		return "content", fmt.Sprintf("content must be valid UTF-8 of at most %d bytes", memory.MaxContent)
	}
	if len(tags) > memory.MaxTags {
		return "tags", fmt.Sprintf("at most %d tags", memory.MaxTags)
	}
	for _, t := range tags {
		if t == "" || len(t) > memory.MaxTag || !printable(t) {
			return "tags", fmt.Sprintf("each tag must be 1-%d printable characters", memory.MaxTag)
		}
	}
	return "", ""
}

// printable reports whether s is UTF-8 without control characters.
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Memory returns the memory tools: memory_save, memory_recall, memory_list,
// memory_delete and memory_describe_scope. They work on the caller's user scope, the
// tenant scope, and in an agent's turns (a tools.Call with an Agent) the agent's
// own scope: what that agent remembers across its sessions.
func Memory(st MemoryStore) []Tool {
	m := memTools{st: st}
	return []Tool{m.save(), m.recall(), m.list(), m.remove(), m.describe()}
}

type memTools struct{ st MemoryStore }

// memView is an entry as the model sees it: no owner, times in RFC 3339.
type memView struct {
	ID      string   `json:"id"`
	Scope   string   `json:"scope"`
	Key     string   `json:"key"`
	Content string   `json:"content,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Updated string   `json:"updated_at"`
}

func memViewOf(e memory.Entry, content string) memView {
	return memView{ID: e.ID, Scope: e.Scope, Key: e.Key, Content: content, Tags: e.Tags,
		Updated: time.UnixMilli(e.UpdatedAt).UTC().Format(time.RFC3339)}
}

// memPlace resolves a tool's scope argument ("" means user) to a place p may use.
func memPlace(p Call, scope string, write bool) (memory.Place, error) {
	if scope == "" {
		scope = memory.ScopeUser
	}
	if scope == memory.ScopeUser && p.User == "" {
		return memory.Place{}, Errorf("no_user", "user memory needs an end user: the request has no SPASS-User-Id")
	}
	if scope == memory.ScopeAgent && p.Agent == "" {
		return memory.Place{}, Errorf("no_agent", "agent memory needs an agent: this call is not an agent turn")
	}
	pl := memory.Place{Scope: scope}
	switch scope {
	case memory.ScopeUser:
		pl.Owner = p.User
	case memory.ScopeAgent:
		pl.Owner = p.Agent
	}
	read, canWrite := MemoryAccess(p.Principal, pl.Scope, pl.Owner)
	if scope == memory.ScopeAgent && p.Role != identity.RoleReadOnly {
		canWrite = true // an agent keeps its own notes, whoever talks to it
	}
	if !read || write && !canWrite {
		return memory.Place{}, Errorf("not_permitted", "your role may not change %s memory", scope)
	}
	return pl, nil
}

// readable are the places a search without a scope covers.
func (m memTools) readable(p Call, scope string) ([]memory.Place, error) {
	if scope != "" {
		pl, err := memPlace(p, scope, false)
		return []memory.Place{pl}, err
	}
	out := []memory.Place{{Scope: memory.ScopeTenant}}
	if p.Agent != "" {
		out = append(out, memory.Place{Scope: memory.ScopeAgent, Owner: p.Agent})
	}
	if p.User != "" {
		out = append([]memory.Place{{Scope: memory.ScopeUser, Owner: p.User}}, out...)
	}
	return out, nil
}

// find returns the entries matching q in scope, or without a scope in every
// place readable lists, as the model sees them: the content clipped to clip
// runes (0 keeps it whole).
func (m memTools) find(ctx context.Context, p Call, scope string, q memory.Query, clip int) ([]memView, error) {
	places, err := m.readable(p, scope)
	if err != nil {
		return nil, err
	}
	q.Places = places
	found, err := m.st.FindMemory(ctx, p.Tenant, q)
	if err != nil {
		return nil, err
	}
	out := make([]memView, len(found))
	for i, e := range found {
		content := e.Content
		if clip > 0 {
			content = memPreview(content, clip)
		}
		out[i] = memViewOf(e, content)
	}
	return out, nil
}

const memScopeProp = `"scope": {"type": "string", "enum": ["user", "tenant", "agent"], "description": "user: private to the current user (default); tenant: shared with the whole organisation (writing needs an admin); agent: what this agent remembers across all its sessions (only in an agent's turns)."}`

func (m memTools) save() Tool {
	return Tool{
		Name: "memory_save",
		Description: "Remember a fact for later conversations. Saving under an existing key replaces that entry. " +
			"Use the user scope for the user's own preferences and facts, the tenant scope for knowledge the whole organisation shares.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["content"], "properties": {
  "content": {"type": "string", "minLength": 1, "maxLength": 16384, "description": "What to remember."},
  "key": {"type": "string", "minLength": 1, "maxLength": 128, "description": "A short stable name, e.g. favourite_language; generated when omitted."},
  "tags": {"type": "array", "maxItems": 16, "items": {"type": "string", "minLength": 1, "maxLength": 64}},
  ` + memScopeProp + `}}`),
		Roles: []string{identity.RoleAdmin, identity.RoleTenantAdmin, identity.RoleUser},
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			var a struct {
				Content, Key, Scope string
				Tags                []string
			}
			if err := decodeArgs(raw, &a); err != nil {
				return nil, err
			}
			if field, problem := ValidateMemory(a.Key, a.Content, a.Tags); field != "" {
				return nil, Errorf("invalid_arguments", "%s: %s", field, problem)
			}
			pl, err := memPlace(p, a.Scope, true)
			if err != nil {
				return nil, err
			}
			e, created, err := m.st.SaveMemory(ctx, p.Tenant, memory.Entry{Scope: pl.Scope, Owner: pl.Owner, Key: a.Key, Content: a.Content, Tags: a.Tags})
			if err != nil {
				return nil, err
			}
			return map[string]any{"id": e.ID, "key": e.Key, "scope": e.Scope, "created": created}, nil
		},
	}
}

func (m memTools) recall() Tool {
	return Tool{
		Name: "memory_recall",
		Description: "Search remembered facts by a word or phrase (case-insensitive, in keys and contents). " +
			"Without a scope it searches the user's memory and the tenant's shared memory.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["query"], "properties": {
  "query": {"type": "string", "minLength": 1, "maxLength": 500, "description": "Text to look for."},
  "limit": {"type": "integer", "minimum": 1, "maximum": 20, "description": "Most entries to return (default 5)."},
  ` + memScopeProp + `}}`),
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			var a struct {
				Query, Scope string
				Limit        int
			}
			if err := decodeArgs(raw, &a); err != nil {
				return nil, err
			}
			out, err := m.find(ctx, p, a.Scope, memory.Query{Text: a.Query, Limit: cmp.Or(a.Limit, 5)}, 0)
			if err != nil {
				return nil, err
			}
			return map[string]any{"query": a.Query, "results": out}, nil
		},
	}
}

func (m memTools) list() Tool {
	return Tool{
		Name:        "memory_list",
		Description: "List remembered entries, newest first, with the first 200 characters of each.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {
  "limit": {"type": "integer", "minimum": 1, "maximum": 50, "description": "Most entries to return (default 20)."},
  ` + memScopeProp + `}}`),
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			var a struct {
				Scope string
				Limit int
			}
			if err := decodeArgs(raw, &a); err != nil {
				return nil, err
			}
			out, err := m.find(ctx, p, a.Scope, memory.Query{Limit: cmp.Or(a.Limit, 20)}, 200)
			if err != nil {
				return nil, err
			}
			return map[string]any{"entries": out}, nil
		},
	}
}

func (m memTools) remove() Tool {
	return Tool{
		Name:        "memory_delete",
		Description: "Forget one remembered entry, named by its id or by its key (and scope).",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "anyOf": [{"required": ["id"]}, {"required": ["key"]}], "properties": {
  "id": {"type": "string", "minLength": 1, "maxLength": 64},
  "key": {"type": "string", "minLength": 1, "maxLength": 128},
  ` + memScopeProp + `}}`),
		Roles: []string{identity.RoleAdmin, identity.RoleTenantAdmin, identity.RoleUser},
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			var a struct{ ID, Key, Scope string }
			if err := decodeArgs(raw, &a); err != nil {
				return nil, err
			}
			var e memory.Entry
			var ok bool
			var err error
			if a.ID != "" {
				e, ok, err = m.st.GetMemory(ctx, p.Tenant, a.ID)
				if ok { // another user's entry reads as missing, as over HTTP
					ok, _ = MemoryAccess(p.Principal, e.Scope, e.Owner)
				}
			} else {
				pl, perr := memPlace(p, a.Scope, false)
				if perr != nil {
					return nil, perr
				}
				var found []memory.Entry
				found, err = m.st.FindMemory(ctx, p.Tenant, memory.Query{Places: []memory.Place{pl}, Key: a.Key, Limit: 1})
				if ok = len(found) == 1; ok {
					e = found[0]
				}
			}
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, Errorf("not_found", "no memory entry %s", cmp.Or(a.ID, a.Key))
			}
			if _, write := MemoryAccess(p.Principal, e.Scope, e.Owner); !write {
				return nil, Errorf("not_permitted", "your role may not change %s memory", e.Scope)
			}
			if _, err := m.st.DeleteMemory(ctx, p.Tenant, e.ID); err != nil {
				return nil, err
			}
			return map[string]any{"id": e.ID, "key": e.Key, "scope": e.Scope, "deleted": true}, nil
		},
	}
}

func (m memTools) describe() Tool {
	return Tool{
		Name: "memory_describe_scope",
		Description: "Describe the memory scopes available here: whether you may read and write each, " +
			"how many entries it holds and its most recent keys. Call it before saving or recalling when unsure what is remembered.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {}}`),
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			if err := decodeArgs(raw, &struct{}{}); err != nil {
				return nil, err
			}
			places, _ := m.readable(p, "")
			sums, err := m.st.SummarizeMemory(ctx, p.Tenant, places, 10)
			if err != nil {
				return nil, err
			}
			type scopeView struct {
				Scope    string   `json:"scope"`
				Readable bool     `json:"readable"`
				Writable bool     `json:"writable"`
				Count    int      `json:"count"`
				Keys     []string `json:"recent_keys"`
			}
			out := []scopeView{}
			for _, s := range sums {
				read, write := MemoryAccess(p.Principal, s.Scope, s.Owner)
				out = append(out, scopeView{Scope: s.Scope, Readable: read, Writable: write, Count: s.Count, Keys: append([]string{}, s.Keys...)})
			}
			note := "user: private to the current user; tenant: shared by everyone in the organisation."
			if p.User == "" {
				note += " There is no end user on this request, so the user scope is unavailable."
			}
			return map[string]any{"scopes": out, "note": note}, nil
		},
	}
}

// memPreview clips s to n runes.
func memPreview(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
