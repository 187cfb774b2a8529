// Package rag serves /a1/rag: a tenant's RAG indices, their documents, and
// searches over them. The tenant always comes from the bearer token, and an index
// is named within it, so another tenant's index reads as rag_index_not_found on
// every route. Roles: read-only lists, reads and queries; user also writes
// documents; admin and tenant_admin also create and delete indices. Everything
// goes through shared/rag's Service, which the RAG stack tools use too.
package rag

import (
	"net/http"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/chat"
	ragsvc "spass/shared/rag"
	"spass/shared/ragdoc"
	"spass/shared/web"
)

// Routes are the patterns this group serves; the dev shim and template.yaml mount them.
var Routes = []string{
	"POST /a1/rag/indices",
	"GET /a1/rag/indices",
	"GET /a1/rag/indices/{index}",
	"DELETE /a1/rag/indices/{index}",
	"POST /a1/rag/indices/{index}/documents",
	"GET /a1/rag/indices/{index}/documents",
	"GET /a1/rag/indices/{index}/documents/{doc}",
	"PUT /a1/rag/indices/{index}/documents/{doc}",
	"DELETE /a1/rag/indices/{index}/documents/{doc}",
	"POST /a1/rag/indices/{index}/query",
}

// New returns the handler for the RAG group.
func New(a *app.App) http.Handler {
	s := a.RAG
	mux := http.NewServeMux()
	handle := func(pattern string, h web.HandlerFunc) { mux.Handle(pattern, a.Auth.Require(web.Handle(h))) }
	handle("POST /a1/rag/indices", createIndex(s))
	handle("GET /a1/rag/indices", listIndices(s))
	handle("GET /a1/rag/indices/{index}", getIndex(s))
	handle("DELETE /a1/rag/indices/{index}", deleteIndex(s))
	handle("POST /a1/rag/indices/{index}/documents", addDocument(s))
	handle("GET /a1/rag/indices/{index}/documents", listDocuments(s))
	handle("GET /a1/rag/indices/{index}/documents/{doc}", getDocument(s))
	handle("PUT /a1/rag/indices/{index}/documents/{doc}", putDocument(s))
	handle("DELETE /a1/rag/indices/{index}/documents/{doc}", deleteDocument(s))
	handle("POST /a1/rag/indices/{index}/query", query(s))
	return a.Middleware(mux)
}

// decode reads the JSON body into v: unknown fields and user_id refused.
func decode(r *http.Request, v any) error {
	b, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	return web.Decode(b, v)
}

// list is a list answer.
type list[T any] struct {
	Object     string `json:"object"`
	Data       []T    `json:"data"`
	HasMore    *bool  `json:"has_more,omitempty"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// deleted is the answer of a delete.
type deleted struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// createIndex serves "POST /a1/rag/indices": 201 with the index.
func createIndex(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var spec ragsvc.IndexSpec
		if err := decode(r, &spec); err != nil {
			return err
		}
		ix, err := s.CreateIndex(r.Context(), auth.From(r.Context()), spec)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusCreated, ix)
	}
}

// listIndices serves "GET /a1/rag/indices": every index of the tenant, by name.
func listIndices(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ixs, err := s.Indices(r.Context(), auth.From(r.Context()))
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, list[ragsvc.IndexView]{Object: "list", Data: ixs})
	}
}

// getIndex serves "GET /a1/rag/indices/{index}".
func getIndex(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ix, err := s.Index(r.Context(), auth.From(r.Context()), r.PathValue("index"))
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, ix)
	}
}

// deleteIndex serves "DELETE /a1/rag/indices/{index}": the index, its documents
// and chunks go in one transaction.
func deleteIndex(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		ix, err := s.Index(r.Context(), p, r.PathValue("index"))
		if err != nil {
			return err
		}
		if err := s.DeleteIndex(r.Context(), p, ix.Name); err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, deleted{ID: ix.ID, Object: "rag.index", Deleted: true})
	}
}

// addDocument serves "POST /a1/rag/indices/{index}/documents": 202 with the
// document's id and status (pending while the rag:index job runs).
func addDocument(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var spec ragsvc.DocumentSpec
		if err := decode(r, &spec); err != nil {
			return err
		}
		d, _, err := s.PutDocument(r.Context(), auth.From(r.Context()), r.PathValue("index"), spec, false)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusAccepted, d)
	}
}

// putDocument serves "PUT /a1/rag/indices/{index}/documents/{doc}": the document
// is created or replaced; 202 when it will be indexed (again), 200 when only its
// metadata changed.
func putDocument(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var spec ragsvc.DocumentSpec
		if err := decode(r, &spec); err != nil {
			return err
		}
		id := r.PathValue("doc")
		if spec.ID != "" && spec.ID != id {
			return apierr.P(apierr.InvalidRequest, "id", "The body's id differs from the path's; leave it out.")
		}
		spec.ID = id
		d, _, err := s.PutDocument(r.Context(), auth.From(r.Context()), r.PathValue("index"), spec, true)
		if err != nil {
			return err
		}
		status := http.StatusAccepted
		if d.Status == ragdoc.StatusIndexed {
			status = http.StatusOK
		}
		return web.JSON(w, status, d)
	}
}

// listDocuments serves "GET /a1/rag/indices/{index}/documents?limit=&after=&status=":
// by id, without content.
func listDocuments(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		limit, err := web.QueryLimit(r, 20, 100)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		ds, more, err := s.Documents(r.Context(), auth.From(r.Context()), r.PathValue("index"), q.Get("after"), q.Get("status"), limit)
		if err != nil {
			return err
		}
		out := list[ragsvc.DocumentView]{Object: "list", Data: ds, HasMore: &more}
		if more {
			out.NextCursor = ds[len(ds)-1].ID
		}
		return web.JSON(w, http.StatusOK, out)
	}
}

// getDocument serves "GET /a1/rag/indices/{index}/documents/{doc}", content
// included.
func getDocument(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := s.Document(r.Context(), auth.From(r.Context()), r.PathValue("index"), r.PathValue("doc"))
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, d)
	}
}

// deleteDocument serves "DELETE /a1/rag/indices/{index}/documents/{doc}": its
// chunks stop matching at once.
func deleteDocument(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("doc")
		if err := s.DeleteDocument(r.Context(), auth.From(r.Context()), r.PathValue("index"), id); err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, deleted{ID: id, Object: "rag.document", Deleted: true})
	}
}

// query serves "POST /a1/rag/indices/{index}/query" {query, top_k, mode, filter}:
// the passages, best first. The query's embedding is billed under surface a1
// with the index id as ref.
func query(s *ragsvc.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var q ragsvc.QueryRequest
		if err := decode(r, &q); err != nil {
			return err
		}
		ps, err := s.Query(r.Context(), auth.From(r.Context()), r.PathValue("index"), q, chat.Options{Surface: chat.SurfaceA1})
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, list[ragsvc.Passage]{Object: "list", Data: ps})
	}
}
