package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"spass/shared/identity"
)

// TypeRAGIndex chunks and embeds one version of one RAG document and writes its
// chunks. A document changed again meanwhile has a newer version and its own
// task; this one then writes nothing.
const TypeRAGIndex = "rag:index"

// ragIndexOptions: the rag queue; a large document's embeddings take a few
// minutes at most, and a few retries cover an embedding backend's restart.
func ragIndexOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueRAG), asynq.MaxRetry(5), asynq.Timeout(15 * time.Minute)}
}

// RAGIndexPayload names the document version to index.
type RAGIndexPayload struct {
	Index    string `json:"index_id"`
	Document string `json:"document_id"`
	Version  int64  `json:"version"`
}

// NewRAGIndexTask builds the task that indexes the document for p's tenant; the
// embeddings are billed to p.
func NewRAGIndexTask(p identity.Principal, payload RAGIndexPayload) (*asynq.Task, error) {
	if payload.Index == "" || payload.Document == "" || payload.Version <= 0 {
		return nil, errors.New("jobs: a rag:index task needs an index, a document and a version")
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return NewTaskAs(p, TypeRAGIndex, b, ragIndexOptions()...), nil
}

// RAGIndexTaskID is the task id of one document version: enqueueing it twice
// while the first waits is refused (asynq.ErrTaskIDConflict), as it would do the
// same work.
func RAGIndexTaskID(tenant string, payload RAGIndexPayload) string {
	return fmt.Sprintf("rag:index:%s/%s/%s@%d", tenant, payload.Index, payload.Document, payload.Version)
}

// RAGIndexer indexes documents; *rag.Service implements it. last says that no
// retry follows, so a failure a retry might have cured is recorded on the
// document instead of returned.
type RAGIndexer interface {
	IndexDocument(ctx context.Context, p identity.Principal, payload RAGIndexPayload, last bool) error
}

// RAGIndexHandler runs rag:index tasks.
type RAGIndexHandler struct{ Indexer RAGIndexer }

// ProcessTask indexes the task's document as the task's principal. The indexer
// records permanent failures on the document and returns only what a retry may
// cure (the embedding backend down or rate limited).
func (h *RAGIndexHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p RAGIndexPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Index == "" || p.Document == "" || p.Version <= 0 {
		return Invalid(fmt.Errorf("rag:index payload: %v", err))
	}
	who := Principal(ctx)
	if who.Tenant == "" {
		return Invalid(errors.New("rag:index task without a principal"))
	}
	return h.Indexer.IndexDocument(ctx, who, p, LastAttempt(ctx))
}

// RAGIndexKind is the rag:index job on the indexer.
func RAGIndexKind(ix RAGIndexer) Kind {
	return Kind{Type: TypeRAGIndex, Options: ragIndexOptions(), Handler: &RAGIndexHandler{Indexer: ix}}
}
