package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"spass/shared/ragdoc"
	"spass/shared/store"
)

func ragIndex(t *testing.T, db *store.DB, tenant, name string) ragdoc.Index {
	t.Helper()
	ix, err := db.CreateRAGIndex(context.Background(), tenant, ragdoc.Index{Name: name, EmbeddingModel: "m", ChunkSize: 500, ChunkOverlap: 50}, 10)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func ragDoc(t *testing.T, db *store.DB, tenant, indexID, id, content string, md string) ragdoc.Document {
	t.Helper()
	d, _, _, err := db.PutRAGDocument(context.Background(), tenant, ragdoc.Document{ID: id, IndexID: indexID, Title: id,
		ContentType: ragdoc.TypeText, Content: content, Metadata: md}, true)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRAGIndexNamesLimitsAndTenants(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ix := ragIndex(t, db, "acme", "handbook")
		if _, err := db.CreateRAGIndex(ctx, "acme", ragdoc.Index{Name: "handbook", EmbeddingModel: "m"}, 10); !errors.Is(err, store.ErrRAGIndexExists) {
			t.Fatalf("same name twice: %v", err)
		}
		other := ragIndex(t, db, "globex", "handbook") // names are per tenant
		if other.ID == ix.ID {
			t.Fatal("two tenants share an index id")
		}
		if _, err := db.CreateRAGIndex(ctx, "acme", ragdoc.Index{Name: "second", EmbeddingModel: "m"}, 1); !errors.Is(err, store.ErrRAGIndexLimit) {
			t.Fatalf("past the limit: %v", err)
		}
		if _, ok, _ := db.RAGIndexByID(ctx, "globex", ix.ID); ok {
			t.Fatal("globex read acme's index by id")
		}
		if gone, _ := db.DeleteRAGIndex(ctx, "globex", ix.ID); gone {
			t.Fatal("globex deleted acme's index")
		}
		if has, _ := db.HasRAGIndex(ctx, "initech"); has {
			t.Fatal("a tenant without indices has one")
		}
		list, _ := db.RAGIndices(ctx, "acme")
		if len(list) != 1 || list[0].ID != ix.ID {
			t.Fatalf("acme's indices: %+v", list)
		}
	})
}

func TestRAGDocumentVersionsAndChunks(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ix := ragIndex(t, db, "acme", "kb")
		d := ragDoc(t, db, "acme", ix.ID, "d1", "The gateway listens on port 8443.", `{"team":"ops"}`)
		if d.Status != ragdoc.StatusPending || d.Version != 1 {
			t.Fatalf("new document: %+v", d)
		}
		if _, _, _, err := db.PutRAGDocument(ctx, "acme", ragdoc.Document{ID: "d1", IndexID: ix.ID, Content: "x", ContentType: ragdoc.TypeText}, false); !errors.Is(err, store.ErrRAGDocumentExists) {
			t.Fatalf("create over an existing id: %v", err)
		}
		vec := []float32{1, 0, 0}
		written, err := db.SaveRAGChunks(ctx, "acme", ix.ID, []ragdoc.DocChunks{{DocumentID: "d1", Version: 1,
			Chunks: []ragdoc.Chunk{{Seq: 0, Text: "The gateway listens on port 8443.", Embedding: vec}}}})
		if err != nil || !slices.Equal(written, []string{"d1"}) {
			t.Fatalf("save: %v %v", written, err)
		}
		hits, err := db.SearchRAGKeyword(ctx, "acme", ix.ID, `"listening"`, nil, 5) // porter: listening ~ listens
		if err != nil || len(hits) != 1 || hits[0].DocumentID != "d1" || hits[0].Score <= 0 {
			t.Fatalf("keyword: %+v %v", hits, err)
		}
		// A stale job (version 1 after an update to version 2) writes nothing.
		if _, _, reindex, _ := db.PutRAGDocument(ctx, "acme", ragdoc.Document{ID: "d1", IndexID: ix.ID, Title: "d1", ContentType: ragdoc.TypeText, Content: "changed"}, true); !reindex {
			t.Fatal("a content change does not reindex")
		}
		if written, _ := db.SaveRAGChunks(ctx, "acme", ix.ID, []ragdoc.DocChunks{{DocumentID: "d1", Version: 1}}); len(written) != 0 {
			t.Fatal("a stale version was written")
		}
		// Metadata alone keeps the chunks and the status.
		cur, _, _ := db.RAGDocument(ctx, "acme", ix.ID, "d1")
		if _, _, reindex, _ := db.PutRAGDocument(ctx, "acme", ragdoc.Document{ID: "d1", IndexID: ix.ID, Title: "d1", ContentType: ragdoc.TypeText, Content: "changed", Metadata: `{"team":"dev"}`}, true); reindex {
			t.Fatal("a metadata change reindexes")
		}
		after, _, _ := db.RAGDocument(ctx, "acme", ix.ID, "d1")
		if after.Version != cur.Version || after.Metadata != `{"team":"dev"}` {
			t.Fatalf("metadata update: %+v", after)
		}
		v, err := db.RAGVectors(ctx, "acme", ix.ID)
		if err != nil || v.Len() != 1 || v.Dims != 3 || v.Docs[0] != "d1" || v.Generation == 0 {
			t.Fatalf("vectors: %+v %v", v, err)
		}
		// Another tenant sees none of it.
		if _, ok, _ := db.RAGDocument(ctx, "globex", ix.ID, "d1"); ok {
			t.Fatal("globex read acme's document")
		}
		if hits, _ := db.SearchRAGKeyword(ctx, "globex", ix.ID, `"gateway"`, nil, 5); len(hits) != 0 {
			t.Fatal("globex searched acme's index")
		}
		if hits, _ := db.RAGChunks(ctx, "globex", ix.ID, []int64{v.RowIDs[0]}); len(hits) != 0 {
			t.Fatal("globex read acme's chunk")
		}
		if gone, _ := db.DeleteRAGDocument(ctx, "globex", ix.ID, "d1"); gone {
			t.Fatal("globex deleted acme's document")
		}
		// A delete removes the chunks and their keyword rows at once.
		if gone, err := db.DeleteRAGDocument(ctx, "acme", ix.ID, "d1"); !gone || err != nil {
			t.Fatalf("delete: %v %v", gone, err)
		}
		if hits, _ := db.SearchRAGKeyword(ctx, "acme", ix.ID, `"gateway"`, nil, 5); len(hits) != 0 {
			t.Fatalf("deleted chunks still found: %+v", hits)
		}
		if v, _ := db.RAGVectors(ctx, "acme", ix.ID); v.Len() != 0 {
			t.Fatal("deleted vectors still loaded")
		}
	})
}

func TestRAGFilterAndIndexDelete(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ix := ragIndex(t, db, "acme", "kb")
		ragDoc(t, db, "acme", ix.ID, "a", "alpha", `{"team":"ops","tier":1}`)
		ragDoc(t, db, "acme", ix.ID, "b", "alpha", `{"team":"dev","tier":2}`)
		var docs []ragdoc.DocChunks
		for _, id := range []string{"a", "b"} {
			docs = append(docs, ragdoc.DocChunks{DocumentID: id, Version: 1, Chunks: []ragdoc.Chunk{{Text: "alpha beta", Embedding: []float32{1}}}})
		}
		if _, err := db.SaveRAGChunks(ctx, "acme", ix.ID, docs); err != nil {
			t.Fatal(err)
		}
		got, err := db.RAGFilterDocuments(ctx, "acme", ix.ID, ragdoc.Filter{"team": {"ops"}})
		if err != nil || len(got) != 1 || !got["a"] {
			t.Fatalf("filter team=ops: %v %v", got, err)
		}
		hits, _ := db.SearchRAGKeyword(ctx, "acme", ix.ID, `"beta"`, ragdoc.Filter{"tier": {float64(2)}}, 5)
		if len(hits) != 1 || hits[0].DocumentID != "b" {
			t.Fatalf("keyword with filter tier=2: %+v", hits)
		}
		if c, _ := db.RAGIndexCounts(ctx, "acme", ix.ID); c.Documents != 2 || c.Chunks != 2 || c.Pending != 0 {
			t.Fatalf("counts: %+v", c)
		}
		if gone, _ := db.DeleteRAGIndex(ctx, "acme", ix.ID); !gone {
			t.Fatal("index not deleted")
		}
		if hits, _ := db.SearchRAGKeyword(ctx, "acme", ix.ID, `"alpha"`, nil, 5); len(hits) != 0 {
			t.Fatal("the keyword rows outlived their index")
		}
		if _, _, _, err := db.PutRAGDocument(ctx, "acme", ragdoc.Document{ID: "c", IndexID: ix.ID, Content: "x", ContentType: ragdoc.TypeText}, true); !errors.Is(err, store.ErrRAGIndexNotFound) {
			t.Fatalf("document into a deleted index: %v", err)
		}
	})
}

func TestRAGConfirmationsAreBoundAndSpent(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := ragdoc.Confirmation{Digest: "d", Binding: "b", State: "v1", ExpiresAt: 2000}
		if err := db.SaveRAGConfirmation(ctx, "acme", c, 1000); err != nil {
			t.Fatal(err)
		}
		if _, taken, elsewhere, _ := db.TakeRAGConfirmation(ctx, "globex", "d", "b"); taken || elsewhere {
			t.Fatal("another tenant took the token")
		}
		if _, taken, elsewhere, _ := db.TakeRAGConfirmation(ctx, "acme", "d", "other"); taken || !elsewhere {
			t.Fatal("a token bound elsewhere was taken or not reported")
		}
		got, taken, _, err := db.TakeRAGConfirmation(ctx, "acme", "d", "b")
		if err != nil || !taken || got != c {
			t.Fatalf("take: %+v %v %v", got, taken, err)
		}
		if _, taken, _, _ := db.TakeRAGConfirmation(ctx, "acme", "d", "b"); taken {
			t.Fatal("a token was used twice")
		}
	})
}
