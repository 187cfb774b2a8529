package rag

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"

	"github.com/hibiken/asynq"

	"spass/shared/apierr"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/ragdoc"
	"spass/shared/requestid"
	"spass/shared/store"
	"spass/shared/tenantcfg"
)

// IndexSpec creates an index. Zero values take the defaults: the tenant's
// rag.embedding_model (else the first embedding model it may use), the model's
// own dimensions, DefaultChunkSize and DefaultChunkOverlap.
type IndexSpec struct {
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	EmbeddingModel string `json:"embedding_model,omitempty"`
	Dimensions     int    `json:"dimensions,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	ChunkOverlap   *int   `json:"chunk_overlap,omitempty"`
}

// DocumentSpec creates or replaces a document; an empty ID gets a new one, an
// HTML document without a title takes its <title>.
type DocumentSpec struct {
	ID          string          `json:"id,omitempty"`
	Title       string          `json:"title,omitempty"`
	Content     string          `json:"content"`
	ContentType string          `json:"content_type,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

func denied(what string) error {
	return apierr.E(apierr.PermissionDenied, "Your role may not "+what+".", nil)
}

func internal(err error) error { return apierr.E(apierr.Internal, "", err) }

// CreateIndex creates an index for p's tenant (admins only).
func (s *Service) CreateIndex(ctx context.Context, p identity.Principal, spec IndexSpec) (IndexView, error) {
	if !canManage(p) {
		return IndexView{}, denied("create RAG indices")
	}
	if err := checkIndexName(spec.Name); err != nil {
		return IndexView{}, err
	}
	if len(spec.Description) > 1024 {
		return IndexView{}, invalid("description", "description may have at most 1024 bytes.")
	}
	if spec.Dimensions < 0 || spec.Dimensions > 4096 {
		return IndexView{}, invalid("dimensions", "dimensions must be from 1 to 4096, or left out for the model's own.")
	}
	size := DefaultChunkSize
	if spec.ChunkSize != 0 {
		size = spec.ChunkSize
	}
	overlap := min(DefaultChunkOverlap, size/4)
	if spec.ChunkOverlap != nil {
		overlap = *spec.ChunkOverlap
	}
	if size < MinChunkSize || size > MaxChunkSize {
		return IndexView{}, invalid("chunk_size", "chunk_size must be from %d to %d characters.", MinChunkSize, MaxChunkSize)
	}
	if overlap < 0 || overlap > size/2 {
		return IndexView{}, invalid("chunk_overlap", "chunk_overlap must be from 0 to half the chunk_size.")
	}
	model, err := s.embeddingModel(ctx, p, spec.EmbeddingModel)
	if err != nil {
		return IndexView{}, err
	}
	ix, err := s.Store.CreateRAGIndex(ctx, p.Tenant, ragdoc.Index{Name: spec.Name, Description: spec.Description,
		EmbeddingModel: model, Dimensions: spec.Dimensions, ChunkSize: size, ChunkOverlap: overlap}, MaxIndices)
	switch {
	case errors.Is(err, store.ErrRAGIndexExists):
		return IndexView{}, apierr.P(apierr.RAGIndexExists, "name", "Your tenant already has an index named "+spec.Name+".")
	case errors.Is(err, store.ErrRAGIndexLimit):
		return IndexView{}, apierr.E(apierr.RAGIndexLimit, "Your tenant has the most RAG indices allowed (100).", nil)
	case err != nil:
		return IndexView{}, internal(err)
	}
	s.forgetPresence(p.Tenant)
	return indexView(ix, ragdoc.Counts{}), nil
}

// embeddingModel resolves the model of a new index: the named one, else the
// tenant's rag.embedding_model, else the first embedding model it may use.
func (s *Service) embeddingModel(ctx context.Context, p identity.Principal, name string) (string, error) {
	eff, err := s.Settings.Effective(ctx, p.Tenant)
	if err != nil {
		return "", err
	}
	if name == "" {
		name = eff.String(tenantcfg.RAGEmbeddingModel)
	}
	if name == "" {
		for _, m := range s.Chat.Router.Models() {
			if m.Serves("embedding") && eff.ModelAllowed(m.ID) {
				return m.ID, nil
			}
		}
		return "", apierr.P(apierr.NotConfigured, "embedding_model", "No embedding model is served to your tenant.")
	}
	if m := s.Chat.Router.Model(name); m == nil || !m.Serves("embedding") {
		return "", apierr.P(apierr.ModelNotFound, "embedding_model", "The gateway serves no embedding model "+apierr.Quote(name)+"; GET /v1/info lists them.")
	}
	if !eff.ModelAllowed(name) {
		return "", apierr.P(apierr.ModelNotAllowed, "embedding_model", "Your tenant may not use the model "+apierr.Quote(name)+".")
	}
	return name, nil
}

// index returns p's tenant's index called name, or rag_index_not_found.
func (s *Service) index(ctx context.Context, p identity.Principal, name string) (ragdoc.Index, error) {
	ix, ok, err := s.Store.RAGIndex(ctx, p.Tenant, name)
	if err != nil {
		return ix, internal(err)
	}
	if !ok {
		return ix, apierr.P(apierr.RAGIndexNotFound, "index", "Your tenant has no RAG index named "+apierr.Quote(name)+".")
	}
	return ix, nil
}

// Indices lists p's tenant's indices with their counts.
func (s *Service) Indices(ctx context.Context, p identity.Principal) ([]IndexView, error) {
	list, err := s.Store.RAGIndices(ctx, p.Tenant)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]IndexView, 0, len(list))
	for _, ix := range list {
		c, err := s.Store.RAGIndexCounts(ctx, p.Tenant, ix.ID)
		if err != nil {
			return nil, internal(err)
		}
		out = append(out, indexView(ix, c))
	}
	return out, nil
}

// Index returns one index with its counts.
func (s *Service) Index(ctx context.Context, p identity.Principal, name string) (IndexView, error) {
	ix, err := s.index(ctx, p, name)
	if err != nil {
		return IndexView{}, err
	}
	c, err := s.Store.RAGIndexCounts(ctx, p.Tenant, ix.ID)
	if err != nil {
		return IndexView{}, internal(err)
	}
	return indexView(ix, c), nil
}

// DeleteIndex removes an index with its documents and chunks (admins only).
func (s *Service) DeleteIndex(ctx context.Context, p identity.Principal, name string) error {
	if !canManage(p) {
		return denied("delete RAG indices")
	}
	ix, err := s.index(ctx, p, name)
	if err != nil {
		return err
	}
	if _, err := s.Store.DeleteRAGIndex(ctx, p.Tenant, ix.ID); err != nil {
		return internal(err)
	}
	s.vectors.forget(ix.ID)
	s.forgetPresence(p.Tenant)
	return nil
}

// PutDocument stores a document and queues its indexing; replace allows an
// existing id (PUT), else that is rag_document_exists (POST). A replacement
// whose text did not change (only metadata) is not indexed again.
func (s *Service) PutDocument(ctx context.Context, p identity.Principal, index string, spec DocumentSpec, replace bool) (DocumentView, bool, error) {
	if !canWrite(p) {
		return DocumentView{}, false, denied("change RAG documents")
	}
	ix, err := s.index(ctx, p, index)
	if err != nil {
		return DocumentView{}, false, err
	}
	d, err := documentOf(spec)
	if err != nil {
		return DocumentView{}, false, err
	}
	d.IndexID = ix.ID
	d, created, reindex, err := s.Store.PutRAGDocument(ctx, p.Tenant, d, replace)
	switch {
	case errors.Is(err, store.ErrRAGDocumentExists):
		return DocumentView{}, false, apierr.P(apierr.RAGDocumentExists, "id", "The index already has a document "+d.ID+".")
	case errors.Is(err, store.ErrRAGIndexNotFound):
		return DocumentView{}, false, apierr.P(apierr.RAGIndexNotFound, "index", "The index "+apierr.Quote(index)+" was deleted.")
	case err != nil:
		return DocumentView{}, false, internal(err)
	}
	if reindex {
		d.Status, d.Error = s.enqueue(ctx, p, ix, d.ID, d.Version)
	}
	return documentView(ix.Name, d, false), created, nil
}

// documentOf validates a spec into the document to store.
func documentOf(spec DocumentSpec) (ragdoc.Document, error) {
	if spec.ID == "" {
		spec.ID = newDocumentID()
	}
	if err := checkDocumentID(spec.ID); err != nil {
		return ragdoc.Document{}, err
	}
	if err := checkContent(spec.Content); err != nil {
		return ragdoc.Document{}, err
	}
	if err := checkTitle(spec.Title); err != nil {
		return ragdoc.Document{}, err
	}
	ct, err := contentType(spec.ContentType)
	if err != nil {
		return ragdoc.Document{}, err
	}
	md, err := metadata(spec.Metadata)
	if err != nil {
		return ragdoc.Document{}, err
	}
	title := spec.Title
	if title == "" && ct == ragdoc.TypeHTML {
		_, t := Extract(ct, spec.Content)
		title = clipBytes(t, MaxTitle)
	}
	return ragdoc.Document{ID: spec.ID, Title: title, ContentType: ct, Content: spec.Content, Metadata: md}, nil
}

// enqueue queues the indexing of one document version and returns the status
// the document then has. A queue that refuses the task leaves the document
// failed with a reason the client can act on (reindex it later); the cause is
// logged, as it may name hosts.
func (s *Service) enqueue(ctx context.Context, p identity.Principal, ix ragdoc.Index, doc string, version int64) (status, reason string) {
	payload := jobs.RAGIndexPayload{Index: ix.ID, Document: doc, Version: version}
	t, err := jobs.NewRAGIndexTask(p, payload)
	if err == nil && s.Jobs == nil {
		err = jobs.ErrNotStarted
	}
	if err == nil {
		_, err = s.Jobs.Enqueue(ctx, t, asynq.TaskID(jobs.RAGIndexTaskID(p.Tenant, payload)))
	}
	if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) {
		return ragdoc.StatusPending, ""
	}
	reason = "indexing could not be queued; reindex the document later"
	if errors.Is(err, jobs.ErrNotStarted) {
		reason = "indexing needs a job runner: under Lambda the gateway needs REDIS_URL and the workers"
	}
	slog.Warn("rag: enqueueing an index job failed", "request_id", requestid.From(ctx), "index", ix.ID, "document", doc, "err", err)
	if err := s.Store.MarkRAGDocumentFailed(context.WithoutCancel(ctx), p.Tenant, ix.ID, doc, version, reason); err != nil {
		slog.Error("rag: marking a document failed", "index", ix.ID, "document", doc, "err", err)
	}
	return ragdoc.StatusFailed, reason
}

// Document returns one document with its content.
func (s *Service) Document(ctx context.Context, p identity.Principal, index, id string) (DocumentView, error) {
	ix, d, err := s.document(ctx, p, index, id)
	if err != nil {
		return DocumentView{}, err
	}
	return documentView(ix.Name, d, true), nil
}

func (s *Service) document(ctx context.Context, p identity.Principal, index, id string) (ragdoc.Index, ragdoc.Document, error) {
	ix, err := s.index(ctx, p, index)
	if err != nil {
		return ix, ragdoc.Document{}, err
	}
	d, ok, err := s.Store.RAGDocument(ctx, p.Tenant, ix.ID, id)
	if err != nil {
		return ix, d, internal(err)
	}
	if !ok {
		return ix, d, apierr.P(apierr.RAGDocumentNotFound, "doc", "The index "+ix.Name+" has no document "+apierr.Quote(id)+".")
	}
	return ix, d, nil
}

// Documents lists an index's documents by id after the id after, without their
// content; status keeps one status; more says a next page exists.
func (s *Service) Documents(ctx context.Context, p identity.Principal, index, after, status string, limit int) ([]DocumentView, bool, error) {
	if status != "" && !slices.Contains([]string{ragdoc.StatusPending, ragdoc.StatusIndexed, ragdoc.StatusFailed}, status) {
		return nil, false, apierr.P(apierr.InvalidQuery, "status", "status must be pending, indexed or failed.")
	}
	ix, err := s.index(ctx, p, index)
	if err != nil {
		return nil, false, err
	}
	ds, err := s.Store.RAGDocuments(ctx, p.Tenant, ix.ID, after, status, limit+1)
	if err != nil {
		return nil, false, internal(err)
	}
	more := len(ds) > limit
	ds = ds[:min(len(ds), limit)]
	out := make([]DocumentView, len(ds))
	for i, d := range ds {
		out[i] = documentView(ix.Name, d, false)
	}
	return out, more, nil
}

// DeleteDocument removes a document and its chunks at once.
func (s *Service) DeleteDocument(ctx context.Context, p identity.Principal, index, id string) error {
	if !canWrite(p) {
		return denied("change RAG documents")
	}
	ix, _, err := s.document(ctx, p, index, id)
	if err != nil {
		return err
	}
	if _, err := s.Store.DeleteRAGDocument(ctx, p.Tenant, ix.ID, id); err != nil {
		return internal(err)
	}
	return nil
}

// Reindex queues the named documents (all of the index when ids is empty) for
// indexing again and returns how many were queued.
func (s *Service) Reindex(ctx context.Context, p identity.Principal, index string, ids []string) (int, error) {
	if !canWrite(p) {
		return 0, denied("change RAG documents")
	}
	ix, err := s.index(ctx, p, index)
	if err != nil {
		return 0, err
	}
	for _, id := range ids { // all or nothing: refuse before any is touched
		if _, ok, err := s.Store.RAGDocument(ctx, p.Tenant, ix.ID, id); err != nil {
			return 0, internal(err)
		} else if !ok {
			return 0, apierr.P(apierr.RAGDocumentNotFound, "doc", "The index "+ix.Name+" has no document "+apierr.Quote(id)+".")
		}
	}
	versions, err := s.Store.RAGReindex(ctx, p.Tenant, ix.ID, ids)
	if err != nil {
		return 0, internal(err)
	}
	for id, v := range versions {
		s.enqueue(ctx, p, ix, id, v)
	}
	return len(versions), nil
}
