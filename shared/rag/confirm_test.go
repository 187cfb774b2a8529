package rag_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/shared/rag"
	"spass/shared/tools"
)

// TestDestructiveToolsAskFirst: a delete without a token changes nothing; a token
// for other arguments, another tool, another session or past its expiry is
// refused (and changes nothing); the right one acts once.
func TestDestructiveToolsAskFirst(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	seed(t, env, acmeAdmin, "kb", map[string]string{"d1": "first document", "d2": "second document"})
	s, ctx := env.App.RAG, context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	alice := agentCall(acmeAdmin, "s1")
	exists := func(id string) bool {
		_, err := s.Document(ctx, acmeAdmin, "kb", id)
		return err == nil
	}

	first := runOK(t, env, alice, "rag_delete_document", `{"index":"kb","id":"d1"}`)
	token := first.Get("confirm_token").Str
	if first.Get("status").Str != "confirmation_required" || !strings.HasPrefix(token, "rcf_") || !strings.Contains(first.Get("action").Str, "delete document d1") {
		t.Fatalf("first call: %s", first.Raw)
	}
	if !exists("d1") {
		t.Fatal("the first call deleted the document")
	}
	cases := []struct {
		name string
		c    string // session
		tool string
		args string
		code string
	}{
		{"other arguments", "s1", "rag_delete_document", `{"index":"kb","id":"d2","confirm":"` + token + `"}`, "confirmation_mismatch"},
		{"another tool", "s1", "rag_reindex", `{"index":"kb","id":"d1","confirm":"` + token + `"}`, "confirmation_mismatch"},
		{"another session", "s2", "rag_delete_document", `{"index":"kb","id":"d1","confirm":"` + token + `"}`, "confirmation_mismatch"},
		{"a made-up token", "s1", "rag_delete_document", `{"index":"kb","id":"d1","confirm":"rcf_0000"}`, "confirmation_invalid"},
	}
	for _, c := range cases {
		if _, err := run(t, env, agentCall(acmeAdmin, c.c), c.tool, c.args); code(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
		if !exists("d1") || !exists("d2") {
			t.Fatalf("%s deleted a document", c.name)
		}
	}
	// Past its expiry: refused, nothing deleted.
	now = now.Add(rag.DefaultConfirmTTL + time.Second)
	if _, err := run(t, env, alice, "rag_delete_document", `{"index":"kb","id":"d1","confirm":"`+token+`"}`); code(err) != "confirmation_expired" || !exists("d1") {
		t.Fatalf("expired token: %v", err)
	}
	// A fresh token acts, once.
	token = runOK(t, env, alice, "rag_delete_document", `{"index":"kb","id":"d1"}`).Get("confirm_token").Str
	done := runOK(t, env, alice, "rag_delete_document", `{"index":"kb","id":"d1","confirm":"`+token+`"}`)
	if !done.Get("deleted").Bool() || exists("d1") || !exists("d2") {
		t.Fatalf("confirmed delete: %s", done.Raw)
	}
	if _, err := run(t, env, alice, "rag_delete_index", `{"index":"kb","confirm":"`+token+`"}`); code(err) != "confirmation_invalid" {
		t.Fatalf("a spent token: %v", err)
	}
	// Deleting the index asks too.
	token = runOK(t, env, alice, "rag_delete_index", `{"index":"kb"}`).Get("confirm_token").Str
	if _, err := s.Index(ctx, acmeAdmin, "kb"); err != nil {
		t.Fatal("the first call deleted the index")
	}
	runOK(t, env, alice, "rag_delete_index", `{"index":"kb","confirm":"`+token+`"}`)
	if _, err := s.Index(ctx, acmeAdmin, "kb"); err == nil {
		t.Fatal("the index survived a confirmed delete")
	}
}

// code is a tool error's code, "" for none.
func code(err *tools.Error) string {
	if err == nil {
		return ""
	}
	return err.Code
}

// TestUpdatePreviewShowsTheDiff: an update first shows the diff and changes
// nothing; confirmed, it applies and indexes again; a token issued before the
// document changed is stale.
func TestUpdatePreviewShowsTheDiff(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t)
	seed(t, env, acmeAdmin, "kb", map[string]string{"faq": "Q: port?\nA: 8443\nQ: owner?\nA: ops team"})
	s, ctx := env.App.RAG, context.Background()
	alice := agentCall(acmeAdmin, "s1")
	args := `{"index":"kb","id":"faq","content":"Q: port?\nA: 9443\nQ: owner?\nA: ops team","metadata":{"reviewed":true}}`
	preview := runOK(t, env, alice, "rag_update_document", args)
	diff := preview.Get("diff").Str
	if !strings.Contains(diff, "-A: 8443\n+A: 9443\n") || !strings.Contains(diff, "@@ -1,4 +1,4 @@") ||
		preview.Get("changes.lines_added").Int() != 1 || preview.Get("changes.metadata.to.reviewed").Bool() != true {
		t.Fatalf("preview: %s", preview.Raw)
	}
	d, _ := s.Document(ctx, acmeAdmin, "kb", "faq")
	if !strings.Contains(*d.Content, "8443") || d.Version != 1 || string(d.Metadata) != "{}" {
		t.Fatalf("the preview changed the document: %+v", d)
	}
	token := preview.Get("confirm_token").Str
	done := runOK(t, env, alice, "rag_update_document", strings.TrimSuffix(args, "}")+`,"confirm":"`+token+`"}`)
	if !done.Get("updated").Bool() || done.Get("version").Int() != 2 {
		t.Fatalf("confirmed update: %s", done.Raw)
	}
	if d := waitFor(t, env, acmeAdmin, "kb", "faq"); !strings.Contains(*d.Content, "9443") || d.Status != "indexed" || string(d.Metadata) != `{"reviewed":true}` {
		t.Fatalf("after the update: %+v", d)
	}

	// A preview of a document that then changes cannot be confirmed.
	stale := runOK(t, env, alice, "rag_update_document", `{"index":"kb","id":"faq","title":"FAQ"}`).Get("confirm_token").Str
	if _, _, err := s.PutDocument(ctx, acmeAdmin, "kb", rag.DocumentSpec{ID: "faq", Title: "faq", Content: "rewritten meanwhile"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, env, alice, "rag_update_document", `{"index":"kb","id":"faq","title":"FAQ","confirm":"`+stale+`"}`); code(err) != "confirmation_stale" {
		t.Fatalf("stale token: %v", err)
	}
	if d, _ := s.Document(ctx, acmeAdmin, "kb", "faq"); d.Title != "faq" {
		t.Fatalf("a stale confirmation applied: %+v", d)
	}
	// A read-only caller is not even offered the tool, and cannot run it.
	ro := agentCall(acmeAdmin, "s1")
	ro.Role = "read-only"
	if _, err := run(t, env, ro, "rag_update_document", args); code(err) != "not_permitted" {
		t.Fatalf("read-only update: %v", err)
	}
}
