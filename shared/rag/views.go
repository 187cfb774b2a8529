package rag

import (
	"encoding/json"
	"strconv"

	"spass/shared/ragdoc"
)

// IndexView is an index on the wire (HTTP and tools); times are unix seconds.
type IndexView struct {
	ID             string `json:"id"`
	Object         string `json:"object"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	EmbeddingModel string `json:"embedding_model"`
	Dimensions     int    `json:"dimensions,omitempty"`
	ChunkSize      int    `json:"chunk_size"`
	ChunkOverlap   int    `json:"chunk_overlap"`
	Documents      int    `json:"documents"`
	Pending        int    `json:"pending"`
	Failed         int    `json:"failed"`
	Chunks         int    `json:"chunks"`
	CreatedAt      int64  `json:"created_at"`
	UpdatedAt      int64  `json:"updated_at"`
}

func indexView(ix ragdoc.Index, c ragdoc.Counts) IndexView {
	return IndexView{ID: ix.ID, Object: "rag.index", Name: ix.Name, Description: ix.Description, EmbeddingModel: ix.EmbeddingModel,
		Dimensions: ix.Dimensions, ChunkSize: ix.ChunkSize, ChunkOverlap: ix.ChunkOverlap, Documents: c.Documents,
		Pending: c.Pending, Failed: c.Failed, Chunks: c.Chunks, CreatedAt: ix.CreatedAt / 1000, UpdatedAt: ix.UpdatedAt / 1000}
}

// DocumentView is a document on the wire; Content is left out of lists.
type DocumentView struct {
	ID          string          `json:"id"`
	Object      string          `json:"object"`
	Index       string          `json:"index"`
	Title       string          `json:"title"`
	ContentType string          `json:"content_type"`
	Content     *string         `json:"content,omitempty"`
	Metadata    json.RawMessage `json:"metadata"`
	// Status is pending, indexed or failed; Reason says why it failed.
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Version   int64  `json:"version"`
	Chunks    int    `json:"chunks"`
	Bytes     int    `json:"bytes"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
	IndexedAt int64  `json:"indexed_at,omitempty"`
}

func documentView(index string, d ragdoc.Document, withContent bool) DocumentView {
	v := DocumentView{ID: d.ID, Object: "rag.document", Index: index, Title: d.Title, ContentType: d.ContentType,
		Metadata: json.RawMessage(d.Metadata), Status: d.Status, Reason: d.Error, Version: d.Version, Chunks: d.Chunks,
		Bytes: d.Bytes, CreatedAt: d.CreatedAt / 1000, UpdatedAt: d.UpdatedAt / 1000, IndexedAt: d.IndexedAt / 1000}
	if len(v.Metadata) == 0 {
		v.Metadata = json.RawMessage(`{}`)
	}
	if withContent {
		v.Content = &d.Content
	}
	return v
}

// Passage is one search result: a chunk with its source document. ChunkID is
// "<document_id>:<seq>", stable while the document is unchanged; Offset counts
// characters into the document's text.
type Passage struct {
	DocumentID string          `json:"document_id"`
	ChunkID    string          `json:"chunk_id"`
	Title      string          `json:"title,omitempty"`
	Text       string          `json:"text"`
	Score      float64         `json:"score"`
	Offset     int             `json:"offset"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

func passage(h ragdoc.Hit, score float64) Passage {
	p := Passage{DocumentID: h.DocumentID, ChunkID: h.DocumentID + ":" + strconv.Itoa(h.Seq), Title: h.Title,
		Text: h.Text, Score: score, Offset: h.Offset}
	if h.Metadata != "" && h.Metadata != "{}" {
		p.Metadata = json.RawMessage(h.Metadata)
	}
	return p
}
