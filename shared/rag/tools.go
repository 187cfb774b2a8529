package rag

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"spass/shared/apierr"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/tools"
)

// Tools returns the RAG stack tools: rag_query (active RAG), offered whenever the
// tenant has an index, and the nine RAG-CRUD tools for agents — list, create and
// delete indices; list, get, add, update and delete documents; reindex —
// offered in agent turns only (the /v1 surface injects its tools into every chat,
// and CRUD tools there would only cost tokens), those on an index only when the
// tenant has one. Each runs through the same Service checks as HTTP, so a model
// can never do more than its caller could; delete, update and reindex ask for
// confirmation first (confirm.go).
func Tools(s *Service) []tools.Tool {
	t := ragTools{s}
	return []tools.Tool{t.query(), t.listIndices(), t.createIndex(), t.deleteIndex(), t.listDocuments(),
		t.getDocument(), t.addDocument(), t.updateDocument(), t.deleteDocument(), t.reindex()}
}

type ragTools struct{ s *Service }

// writers are the roles that may change documents: all but read-only.
func writers() []string {
	return []string{identity.RoleAdmin, identity.RoleTenantAdmin, identity.RoleUser}
}

// managers are the roles that may create and delete indices.
func managers() []string { return []string{identity.RoleAdmin, identity.RoleTenantAdmin} }

func (t ragTools) withIndex(ctx context.Context, c tools.Call) bool {
	return t.s.HasIndex(ctx, c.Tenant)
}

func agentTurn(_ context.Context, c tools.Call) bool { return c.Agent != "" }

func (t ragTools) agentWithIndex(ctx context.Context, c tools.Call) bool {
	return c.Agent != "" && t.s.HasIndex(ctx, c.Tenant)
}

// decode reads validated arguments.
func decode(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage(`{}`)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return tools.Errorf("invalid_arguments", "arguments do not match the schema: %v", err)
	}
	return nil
}

// toolError turns the service's catalog errors into tool errors the model can
// read (rag_index_not_found, permission_denied, ...); internal errors stay
// opaque.
func toolError(err error) error {
	var e *apierr.Error
	if errors.As(err, &e) && e.Code != apierr.Internal {
		msg := e.Message
		if msg == "" {
			msg = apierr.Lookup(e.Code).Message
		}
		return tools.Errorf(string(e.Code), "%s", msg)
	}
	return err
}

// callOptions files a tool's embeddings under the calling request's surface,
// ref, agent and session.
func callOptions(c tools.Call) chat.Options {
	return chat.Options{Surface: chat.Surface(c.Surface), Ref: c.Ref, Agent: c.Agent, Session: c.Session}
}

// indexProp names an index in a tool's arguments.
const indexProp = `"index": {"type": "string", "minLength": 1, "maxLength": 64, "description": "The index name."}`

func (t ragTools) query() tools.Tool {
	return tools.Tool{
		Name: "rag_query",
		Description: "Search the organisation's knowledge base (its RAG indices of documents) and return the best matching passages with their sources. " +
			"Use it for questions about the organisation's own documents, products and procedures; cite the document titles you use.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["query"], "properties": {
  "query": {"type": "string", "minLength": 1, "maxLength": 4096, "description": "What to look for, in words likely to appear in the documents."},
  "index": {"type": "string", "minLength": 1, "maxLength": 64, "description": "The index to search; may be left out when the organisation has one index."},
  "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "description": "How many passages (default 5)."},
  "mode": {"type": "string", "enum": ["hybrid", "keyword", "vector"], "description": "hybrid (default) combines keyword and semantic search."},
  "filter": {"type": "object", "description": "Only documents whose metadata has these values, e.g. {\"team\": \"ops\"}."}}}`),
		Available: t.withIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct {
				Query, Index, Mode string
				TopK               int `json:"top_k"`
				Filter             json.RawMessage
			}
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if a.Index == "" {
				name, err := t.onlyIndex(ctx, c.Principal)
				if err != nil {
					return nil, err
				}
				a.Index = name
			}
			ps, err := t.s.Query(ctx, c.Principal, a.Index, QueryRequest{Query: a.Query, TopK: a.TopK, Mode: a.Mode, Filter: a.Filter}, callOptions(c))
			if err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"index": a.Index, "results": ps}, nil
		},
	}
}

// onlyIndex returns the name of the tenant's one index, or a tool error naming
// the indices to choose from.
func (t ragTools) onlyIndex(ctx context.Context, p identity.Principal) (string, error) {
	list, err := t.s.Store.RAGIndices(ctx, p.Tenant)
	if err != nil {
		return "", err
	}
	if len(list) == 1 {
		return list[0].Name, nil
	}
	names := make([]string, len(list))
	for i, ix := range list {
		names[i] = ix.Name
	}
	if len(names) == 0 {
		return "", tools.Errorf(string(apierr.RAGIndexNotFound), "the organisation has no knowledge base index")
	}
	return "", tools.Errorf("invalid_arguments", "name the index to search: one of %s", strings.Join(names, ", "))
}

func (t ragTools) listIndices() tools.Tool {
	return tools.Tool{
		Name:        "rag_list_indices",
		Description: "List the organisation's RAG indices (knowledge bases) with how many documents and passages each holds.",
		Parameters:  json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {}}`),
		Available:   agentTurn,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			if err := decode(raw, &struct{}{}); err != nil {
				return nil, err
			}
			list, err := t.s.Indices(ctx, c.Principal)
			if err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"indices": list}, nil
		},
	}
}

func (t ragTools) createIndex() tools.Tool {
	return tools.Tool{
		Name:        "rag_create_index",
		Description: "Create a new, empty RAG index (knowledge base) for the organisation. Add documents to it with rag_add_document.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
  "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "Letters, digits, _ . or -."},
  "description": {"type": "string", "maxLength": 1024},
  "embedding_model": {"type": "string", "maxLength": 256, "description": "Leave out for the organisation's default."},
  "chunk_size": {"type": "integer", "minimum": 100, "maximum": 8000, "description": "Characters per passage (default 1000)."},
  "chunk_overlap": {"type": "integer", "minimum": 0, "maximum": 4000}}}`),
		Roles:     managers(),
		Available: agentTurn,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var spec IndexSpec
			if err := decode(raw, &spec); err != nil {
				return nil, err
			}
			ix, err := t.s.CreateIndex(ctx, c.Principal, spec)
			if err != nil {
				return nil, toolError(err)
			}
			return ix, nil
		},
	}
}

func (t ragTools) listDocuments() tools.Tool {
	return tools.Tool{
		Name:        "rag_list_documents",
		Description: "List the documents of a RAG index (without their content), by id, with their indexing status.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index"], "properties": {
  ` + indexProp + `,
  "status": {"type": "string", "enum": ["pending", "indexed", "failed"]},
  "after": {"type": "string", "maxLength": 128, "description": "List the documents after this id (the next page)."},
  "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Default 20."}}}`),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct {
				Index, Status, After string
				Limit                int
			}
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if a.Limit == 0 {
				a.Limit = 20
			}
			ds, more, err := t.s.Documents(ctx, c.Principal, a.Index, a.After, a.Status, a.Limit)
			if err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"documents": ds, "has_more": more}, nil
		},
	}
}

// maxToolContent bounds the content rag_get_document hands a model.
const maxToolContent = 16 << 10

func (t ragTools) getDocument() tools.Tool {
	return tools.Tool{
		Name:        "rag_get_document",
		Description: "Read one document of a RAG index: its title, metadata, status and content (the first 16 KiB).",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index", "id"], "properties": {
  ` + indexProp + `,
  "id": {"type": "string", "minLength": 1, "maxLength": 128}}}`),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct{ Index, ID string }
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			d, err := t.s.Document(ctx, c.Principal, a.Index, a.ID)
			if err != nil {
				return nil, toolError(err)
			}
			out := map[string]any{"document": d}
			if d.Content != nil && len(*d.Content) > maxToolContent {
				clipped := clipBytes(*d.Content, maxToolContent)
				d.Content = &clipped
				out["document"], out["truncated"] = d, true
			}
			return out, nil
		},
	}
}
