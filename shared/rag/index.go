package rag

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"spass/shared/apierr"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/jobs"
	"spass/shared/ragdoc"
)

// IndexDocument runs one rag:index job (it implements jobs.RAGIndexer): the
// document's text is chunked with its index's settings, the chunks embedded
// through the chat core in batches — billed to p, filed under surface a1 with the
// index id as ref — and written with their keyword rows in one transaction. A
// document deleted or changed since the job was queued is left to its own job.
// What no retry can fix (no text, a refused model) marks the document failed at
// once; what a retry may cure (the embedding backend down, rate limited) is
// returned for the queue to retry, and recorded on the last attempt.
func (s *Service) IndexDocument(ctx context.Context, p identity.Principal, job jobs.RAGIndexPayload, last bool) error {
	ix, ok, err := s.Store.RAGIndexByID(ctx, p.Tenant, job.Index)
	if err != nil || !ok {
		return err // a deleted index needs nothing
	}
	d, ok, err := s.Store.RAGDocument(ctx, p.Tenant, ix.ID, job.Document)
	if err != nil || !ok || d.Version != job.Version {
		return err
	}
	text, _ := Extract(d.ContentType, d.Content)
	chunks := Chunks(text, ix.ChunkSize, ix.ChunkOverlap)
	if len(chunks) == 0 {
		return s.fail(ctx, p, ix, d, "the document has no text to index")
	}
	inputs := make([]string, len(chunks))
	for i, c := range chunks {
		inputs[i] = embedInput(d.Title, c.Text)
	}
	vecs, err := s.embed(ctx, p, ix, inputs, chat.Options{Surface: chat.SurfaceA1, Ref: ix.ID})
	if err != nil {
		e := apierr.From(err)
		if st := e.Status(); (st == http.StatusTooManyRequests || st >= 500) && !last {
			return jobs.Failed(e.Code, err)
		}
		return s.fail(ctx, p, ix, d, "embedding failed: "+cmp.Or(e.Message, apierr.Lookup(e.Code).Message))
	}
	for i := range chunks {
		chunks[i].Embedding = vecs[i]
	}
	_, err = s.Store.SaveRAGChunks(ctx, p.Tenant, ix.ID, []ragdoc.DocChunks{{DocumentID: d.ID, Version: d.Version, Chunks: chunks}})
	return err
}

// fail records why a document version could not be indexed; the job ends.
func (s *Service) fail(ctx context.Context, p identity.Principal, ix ragdoc.Index, d ragdoc.Document, reason string) error {
	slog.Info("rag: a document could not be indexed", "tenant", p.Tenant, "index", ix.ID, "document", d.ID, "reason", reason)
	return s.Store.MarkRAGDocumentFailed(ctx, p.Tenant, ix.ID, d.ID, d.Version, reason)
}

// embedInput is what a chunk is embedded as: its document's title leads, so every
// passage of a document is found by what the document is about.
func embedInput(title, text string) string {
	if title == "" {
		return text
	}
	return title + "\n\n" + text
}

// embeddingList is the part of an embeddings answer the index reads.
type embeddingList struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// embed returns unit vectors of inputs from the index's model, embedSize at a
// time, each request a ledger row of its own under opts.
func (s *Service) embed(ctx context.Context, p identity.Principal, ix ragdoc.Index, inputs []string, opts chat.Options) ([][]float32, error) {
	out := make([][]float32, 0, len(inputs))
	for start := 0; start < len(inputs); start += embedBatch {
		batch := inputs[start:min(len(inputs), start+embedBatch)]
		body := map[string]any{"model": ix.EmbeddingModel, "input": batch}
		if ix.Dimensions > 0 {
			body["dimensions"] = ix.Dimensions
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, internal(err)
		}
		req, err := chat.ParseEmbeddings(raw)
		if err != nil {
			return nil, err
		}
		sink := &chat.Memory{}
		if _, err := s.Chat.Embed(ctx, p, req, opts, sink); err != nil {
			return nil, err
		}
		var list embeddingList
		if err := json.Unmarshal(sink.Body, &list); err != nil || len(list.Data) != len(batch) {
			return nil, apierr.E(apierr.UpstreamError, "The embedding model answered with the wrong number of embeddings.", err)
		}
		vecs := make([][]float32, len(batch))
		for _, d := range list.Data {
			if d.Index < 0 || d.Index >= len(batch) || len(d.Embedding) == 0 || vecs[d.Index] != nil {
				return nil, apierr.E(apierr.UpstreamError, "The embedding model answered with malformed embeddings.", nil)
			}
			normalize(d.Embedding)
			vecs[d.Index] = d.Embedding
		}
		for _, v := range vecs {
			if len(v) != len(vecs[0]) || len(out) > 0 && len(v) != len(out[0]) {
				return nil, apierr.E(apierr.UpstreamError, fmt.Sprintf("The embedding model answered with embeddings of %d and %d dimensions.", len(v), len(vecs[0])), nil)
			}
		}
		out = append(out, vecs...)
	}
	return out, nil
}
