package apierr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"testing"

	"spass/shared/apierr"
)

var update = flag.Bool("update", false, "rewrite docs/errors.md from the catalog")

func TestDocsMatchCatalog(t *testing.T) {
	const path = "../../docs/errors.md"
	want := apierr.Markdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/errors.md is out of date: run go test ./shared/apierr -update")
	}
}

func TestCatalogEntriesComplete(t *testing.T) {
	for _, e := range apierr.Catalog() {
		if e.Type == "" || e.Status < 400 || e.Message == "" || e.Remediation == "" {
			t.Errorf("%s: incomplete entry %+v", e.Code, e)
		}
	}
}

func TestWireBodyIsOpenAIShaped(t *testing.T) {
	rec := httptest.NewRecorder()
	e := apierr.P(apierr.ModelNotFound, "model", "no such model")
	e.RetryAfter = 3
	e.Write(rec)
	if rec.Code != 404 || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("status %d retry-after %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	var got struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"message": "no such model", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
	for k, v := range want {
		if got.Error[k] != v {
			t.Errorf("%s = %v, want %v", k, got.Error[k], v)
		}
	}
	if _, ok := got.Error["param"]; !ok {
		t.Error("param must be present (null when unset)")
	}
}

func TestUnknownErrorsFailClosed(t *testing.T) {
	e := apierr.From(errors.New("dial tcp 10.0.0.7:8000: refused"))
	if e.Code != apierr.Internal || e.Status() != 500 {
		t.Fatalf("got %s %d", e.Code, e.Status())
	}
	if bytes.Contains(e.Body(), []byte("10.0.0.7")) {
		t.Fatal("cause leaked into the body")
	}
}
