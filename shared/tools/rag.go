package tools

import (
	"context"
	"encoding/json"
	"spass/shared/identity"
)

const ragQuerySchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["index", "query"],
  "properties": {
    "index": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$", "description": "Name of the document index to search."},
    "query": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "What to look for, in natural language."},
    "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "description": "How many passages to return (default 5)."}
  }
}`

// RAGQuery returns the rag_query tool. Its schema is final so models and clients can
// rely on it now; it answers no_index until indices arrive with the agents work,
// which replaces Execute, not the contract.
func RAGQuery() Tool {
	return Tool{
		Name: "rag_query",
		Description: "Search a document index (retrieval-augmented generation) and return the passages most relevant to a query. " +
			"No index exists yet on this gateway: calls answer no_index.",
		Parameters: json.RawMessage(ragQuerySchema),
		Execute: func(context.Context, identity.Principal, json.RawMessage) (any, error) {
			return nil, Errorf("no_index", "no RAG index exists yet: indices arrive with agents")
		},
	}
}
