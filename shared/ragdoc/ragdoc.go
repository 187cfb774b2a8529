// Package ragdoc holds the RAG domain types — indices, documents, chunks and the
// hits a search returns — with no I/O, so the store and the rag feature package can
// both name them without the store ever importing a feature.
package ragdoc

// Document statuses: a document is pending from the moment it is stored until its
// rag:index job has written its chunks (indexed) or given up (failed, with Error).
const (
	StatusPending = "pending"
	StatusIndexed = "indexed"
	StatusFailed  = "failed"
)

// Content types a document may have.
const (
	TypeText     = "text/plain"
	TypeMarkdown = "text/markdown"
	TypeHTML     = "text/html"
)

// Index is a tenant's named collection of documents, with the settings its chunks
// were made with. ID is internal and never reused, so a job or cache entry of a
// deleted index can never touch a new index of the same name.
type Index struct {
	ID             string `db:"id"`
	Name           string `db:"name"`
	Description    string `db:"description"`
	EmbeddingModel string `db:"embedding_model"`
	// Dimensions is sent as the embeddings request's dimensions; 0 leaves the
	// model's own size (many local servers refuse the parameter).
	Dimensions   int `db:"dimensions"`
	ChunkSize    int `db:"chunk_size"`    // characters
	ChunkOverlap int `db:"chunk_overlap"` // characters
	// Generation changes with every chunk written or removed: caches of the
	// index's vectors (in any process) compare it to know they are stale.
	Generation int64 `db:"generation"`
	CreatedAt  int64 `db:"created_at"` // unix ms
	UpdatedAt  int64 `db:"updated_at"` // unix ms
}

// Counts are an index's document and chunk totals.
type Counts struct {
	Documents int `db:"documents"`
	Pending   int `db:"pending"`
	Failed    int `db:"failed"`
	Chunks    int `db:"chunks"`
}

// Document is one source document of an index. Content is what the client sent;
// its text (for HTML, the visible text) is what gets chunked.
type Document struct {
	ID          string `db:"id"`
	IndexID     string `db:"index_id"`
	Title       string `db:"title"`
	ContentType string `db:"content_type"`
	Content     string `db:"content"`
	Metadata    string `db:"metadata"` // a JSON object of scalars
	Status      string `db:"status"`
	Error       string `db:"error"` // why indexing failed
	// Version grows with every change of the content; an index job carries the
	// version it was enqueued for and writes nothing if the document moved on.
	Version   int64 `db:"version"`
	Chunks    int   `db:"chunks"`
	Bytes     int   `db:"bytes"`
	CreatedAt int64 `db:"created_at"` // unix ms
	UpdatedAt int64 `db:"updated_at"` // unix ms
	IndexedAt int64 `db:"indexed_at"` // unix ms, 0 until indexed
}

// Chunk is one passage of a document with its embedding (unit length).
type Chunk struct {
	Seq       int
	Offset    int // in characters (code points) of the document's text
	Text      string
	Embedding []float32
}

// Hit is a chunk found by a search, with the document it belongs to.
type Hit struct {
	RowID      int64   `db:"rowid"`
	DocumentID string  `db:"document_id"`
	Seq        int     `db:"seq"`
	Offset     int     `db:"start"`
	Text       string  `db:"text"`
	Title      string  `db:"title"`
	Metadata   string  `db:"metadata"` // the document's, a JSON object
	Score      float64 `db:"score"`    // the search's own score, higher is better
}

// Vectors are an index's chunk embeddings laid out for scoring: row i is chunk
// RowIDs[i] of document Docs[i], its vector Data[i*Dims:(i+1)*Dims].
type Vectors struct {
	Generation int64
	Dims       int
	RowIDs     []int64
	Docs       []string
	Data       []float32
}

// Len is the number of vectors.
func (v *Vectors) Len() int { return len(v.RowIDs) }

// Bytes is the memory the vectors hold, for cache budgets.
func (v *Vectors) Bytes() int64 {
	n := int64(len(v.Data))*4 + int64(len(v.RowIDs))*8
	for _, d := range v.Docs {
		n += int64(len(d)) + 16
	}
	return n
}

// Confirmation is a pending destructive tool call: the token's digest, whom and
// what it is bound to, and the state it was issued against.
type Confirmation struct {
	Digest    string `db:"digest"`
	Binding   string `db:"binding"` // session (or caller), tool and arguments, hashed
	State     string `db:"state"`   // e.g. the document's version when the preview was made
	ExpiresAt int64  `db:"expires_at"`
}

// DocChunks are the chunks of one version of a document, as an index job writes
// them.
type DocChunks struct {
	DocumentID string
	Version    int64
	Chunks     []Chunk
}

// Filter keeps the documents whose metadata has, for every key, one of the listed
// values (strings, float64 numbers or booleans).
type Filter map[string][]any
