package rag

import (
	"cmp"
	"context"
	"encoding/json"
	"strconv"

	"spass/shared/tools"
)

// The RAG tools that change things. Adding a document is not destructive and acts
// at once; delete, update and reindex answer the first call with what they would
// do and a confirmation token (confirm.go), and act on the second.

// maxDiff bounds the diff an update's preview shows.
const maxDiff = 12 << 10

func (t ragTools) addDocument() tools.Tool {
	return tools.Tool{
		Name: "rag_add_document",
		Description: "Add a document to a RAG index; it is chunked and indexed in the background (status pending, then indexed). " +
			"Fails if the id exists: change an existing document with rag_update_document.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index", "content"], "properties": {
  ` + indexProp + `,
  "id": {"type": "string", "minLength": 1, "maxLength": 128, "description": "Generated when left out."},
  "title": {"type": "string", "maxLength": 512},
  "content": {"type": "string", "minLength": 1, "maxLength": 1048576},
  "content_type": {"type": "string", "enum": ["text/plain", "text/markdown", "text/html"]},
  "metadata": {"type": "object", "description": "Up to 32 keys with string, number or boolean values, for filtering searches."}}}`),
		Roles:     writers(),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct {
				Index string
				DocumentSpec
			}
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			d, _, err := t.s.PutDocument(ctx, c.Principal, a.Index, a.DocumentSpec, false)
			if err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"id": d.ID, "status": d.Status, "reason": d.Reason}, nil
		},
	}
}

func (t ragTools) updateDocument() tools.Tool {
	return tools.Tool{
		Name: "rag_update_document",
		Description: "Change a document of a RAG index: its content, title, content type or metadata (left out: kept). " +
			"The first call changes nothing and returns a diff of the stored and the new document with a confirm_token; show the user the diff, then call again with confirm to apply it.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index", "id"],
  "anyOf": [{"required": ["content"]}, {"required": ["title"]}, {"required": ["content_type"]}, {"required": ["metadata"]}], "properties": {
  ` + indexProp + `,
  "id": {"type": "string", "minLength": 1, "maxLength": 128},
  "title": {"type": "string", "maxLength": 512},
  "content": {"type": "string", "minLength": 1, "maxLength": 1048576},
  "content_type": {"type": "string", "enum": ["text/plain", "text/markdown", "text/html"]},
  "metadata": {"type": "object", "description": "Replaces the metadata."},
  ` + confirmProp + `}}`),
		Roles:     writers(),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct {
				Index, ID, Confirm string
				Title, Content     *string
				ContentType        *string `json:"content_type"`
				Metadata           json.RawMessage
			}
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if !canWrite(c.Principal) {
				return nil, toolError(denied("change RAG documents"))
			}
			ix, d, err := t.s.document(ctx, c.Principal, a.Index, a.ID)
			if err != nil {
				return nil, toolError(err)
			}
			spec := DocumentSpec{ID: d.ID, Title: d.Title, Content: d.Content, ContentType: d.ContentType, Metadata: json.RawMessage(d.Metadata)}
			spec.Title, spec.Content, spec.ContentType = deref(a.Title, spec.Title), deref(a.Content, spec.Content), deref(a.ContentType, spec.ContentType)
			if a.Metadata != nil {
				spec.Metadata = a.Metadata
			}
			next, err := documentOf(spec) // the new document must be valid before it is previewed
			if err != nil {
				return nil, toolError(err)
			}
			binding, state := bindingOf(c, "rag_update_document", raw), strconv.FormatInt(d.Version, 10)
			if a.Confirm == "" {
				diff, added, removed := Diff(d.Content, next.Content, maxDiff)
				changes := map[string]any{"lines_added": added, "lines_removed": removed}
				if next.Title != d.Title {
					changes["title"] = map[string]string{"from": d.Title, "to": next.Title}
				}
				if next.ContentType != d.ContentType {
					changes["content_type"] = map[string]string{"from": d.ContentType, "to": next.ContentType}
				}
				if next.Metadata != d.Metadata {
					changes["metadata"] = map[string]json.RawMessage{"from": json.RawMessage(d.Metadata), "to": json.RawMessage(next.Metadata)}
				}
				return t.s.issue(ctx, c, binding, state, map[string]any{
					"action":  "update document " + d.ID + " of index " + ix.Name + " (version " + state + ") and index it again",
					"diff":    cmp.Or(diff, "(the content is unchanged)"),
					"changes": changes,
				})
			}
			if err := t.s.redeem(ctx, c, a.Confirm, binding, state); err != nil {
				return nil, err
			}
			v, _, err := t.s.PutDocument(ctx, c.Principal, ix.Name, spec, true)
			if err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"id": v.ID, "status": v.Status, "version": v.Version, "updated": true}, nil
		},
	}
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func (t ragTools) deleteDocument() tools.Tool {
	return tools.Tool{
		Name:        "rag_delete_document",
		Description: "Delete a document and its passages from a RAG index. The first call changes nothing and returns a confirm_token; call again with confirm to delete.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index", "id"], "properties": {
  ` + indexProp + `,
  "id": {"type": "string", "minLength": 1, "maxLength": 128},
  ` + confirmProp + `}}`),
		Roles:     writers(),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct{ Index, ID, Confirm string }
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if !canWrite(c.Principal) {
				return nil, toolError(denied("change RAG documents"))
			}
			ix, d, err := t.s.document(ctx, c.Principal, a.Index, a.ID)
			if err != nil {
				return nil, toolError(err)
			}
			binding, state := bindingOf(c, "rag_delete_document", raw), strconv.FormatInt(d.Version, 10)
			if a.Confirm == "" {
				return t.s.issue(ctx, c, binding, state, map[string]any{
					"action": "delete document " + d.ID + " (" + cmp.Or(d.Title, "untitled") + ", " + strconv.Itoa(d.Chunks) + " passages) from index " + ix.Name,
				})
			}
			if err := t.s.redeem(ctx, c, a.Confirm, binding, state); err != nil {
				return nil, err
			}
			if err := t.s.DeleteDocument(ctx, c.Principal, ix.Name, d.ID); err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"id": d.ID, "deleted": true}, nil
		},
	}
}

func (t ragTools) deleteIndex() tools.Tool {
	return tools.Tool{
		Name:        "rag_delete_index",
		Description: "Delete a RAG index with all its documents. The first call changes nothing and returns a confirm_token; call again with confirm to delete.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index"], "properties": {
  ` + indexProp + `,
  ` + confirmProp + `}}`),
		Roles:     managers(),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct{ Index, Confirm string }
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if !canManage(c.Principal) {
				return nil, toolError(denied("delete RAG indices"))
			}
			v, err := t.s.Index(ctx, c.Principal, a.Index)
			if err != nil {
				return nil, toolError(err)
			}
			binding := bindingOf(c, "rag_delete_index", raw)
			if a.Confirm == "" {
				return t.s.issue(ctx, c, binding, v.ID, map[string]any{
					"action": "delete index " + v.Name + " with its " + strconv.Itoa(v.Documents) + " documents and " + strconv.Itoa(v.Chunks) + " passages",
				})
			}
			if err := t.s.redeem(ctx, c, a.Confirm, binding, v.ID); err != nil {
				return nil, err
			}
			if err := t.s.DeleteIndex(ctx, c.Principal, v.Name); err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"index": v.Name, "deleted": true}, nil
		},
	}
}

func (t ragTools) reindex() tools.Tool {
	return tools.Tool{
		Name: "rag_reindex",
		Description: "Index one document (id) or every document of a RAG index again, e.g. after a failure. It re-embeds them, which is billed. " +
			"The first call changes nothing and returns a confirm_token; call again with confirm to start.",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["index"], "properties": {
  ` + indexProp + `,
  "id": {"type": "string", "minLength": 1, "maxLength": 128, "description": "One document; left out: all of them."},
  ` + confirmProp + `}}`),
		Roles:     writers(),
		Available: t.agentWithIndex,
		Execute: func(ctx context.Context, c tools.Call, raw json.RawMessage) (any, error) {
			var a struct{ Index, ID, Confirm string }
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if !canWrite(c.Principal) {
				return nil, toolError(denied("change RAG documents"))
			}
			v, err := t.s.Index(ctx, c.Principal, a.Index)
			if err != nil {
				return nil, toolError(err)
			}
			state, action := v.ID, "index all "+strconv.Itoa(v.Documents)+" documents of "+v.Name+" again ("+strconv.Itoa(v.Chunks)+" passages to embed anew)"
			var ids []string
			if a.ID != "" {
				_, d, err := t.s.document(ctx, c.Principal, a.Index, a.ID)
				if err != nil {
					return nil, toolError(err)
				}
				ids, state = []string{d.ID}, v.ID+"/"+strconv.FormatInt(d.Version, 10)
				action = "index document " + d.ID + " of " + v.Name + " again"
			}
			binding := bindingOf(c, "rag_reindex", raw)
			if a.Confirm == "" {
				return t.s.issue(ctx, c, binding, state, map[string]any{"action": action})
			}
			if err := t.s.redeem(ctx, c, a.Confirm, binding, state); err != nil {
				return nil, err
			}
			n, err := t.s.Reindex(ctx, c.Principal, v.Name, ids)
			if err != nil {
				return nil, toolError(err)
			}
			return map[string]any{"index": v.Name, "queued": n}, nil
		},
	}
}
