package discovery_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// exerciseBatches uploads, lists, reads and deletes files, and creates, polls,
// lists and cancels batches, with their catalog errors.
func exerciseBatches(t *testing.T, env *gatewaytest.Env, c *contract) {
	upload := func(purpose, content string, status int) []byte {
		t.Helper()
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		mw.WriteField("purpose", purpose)
		fw, _ := mw.CreateFormFile("file", "requests.jsonl")
		fw.Write([]byte(content))
		mw.Close()
		_, body := c.do(t, withHeader(env.Request(t, "POST", "/v1/files", form.String()), "Content-Type", mw.FormDataContentType()), status)
		return body
	}
	lines := func(model string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `{"custom_id":"r%d","method":"POST","url":"/v1/chat/completions","body":{"model":%q,"messages":[{"role":"user","content":"Hi %d"}]}}`+"\n", i, model, i)
		}
		return b.String()
	}
	var in, slow struct{ ID string }
	decode(t, upload("batch", lines("sim-chat", 3), http.StatusOK), &in)
	decode(t, upload("batch", lines("flaky", 50), http.StatusOK), &slow) // every line answered 429, retried
	wantCode(t, upload("batch", `{"custom_id":"a"}`, http.StatusBadRequest), "invalid_batch_file")
	c.do(t, env.Request(t, "GET", "/v1/files?purpose=batch&limit=5&order=asc", ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/v1/files/"+in.ID, ""), http.StatusOK)
	_, body := c.do(t, env.Request(t, "GET", "/v1/files/file-nope", ""), http.StatusNotFound)
	wantCode(t, body, "file_not_found")

	create := func(file string) *http.Request {
		return env.Request(t, "POST", "/v1/batches", `{"input_file_id":"`+file+`","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"job":"eval"}}`)
	}
	var b struct {
		ID, Status   string
		OutputFileID string `json:"output_file_id"`
	}
	_, body = c.do(t, create(in.ID), http.StatusOK)
	decode(t, body, &b)
	for deadline := time.Now().Add(30 * time.Second); b.Status != "completed"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("batch %s: %s", b.ID, b.Status)
		}
		_, body = c.do(t, env.Request(t, "GET", "/v1/batches/"+b.ID, ""), http.StatusOK)
		decode(t, body, &b)
	}
	if _, body = c.do(t, env.Request(t, "GET", "/v1/files/"+b.OutputFileID+"/content", ""), http.StatusOK); bytes.Count(body, []byte("\n")) != 3 {
		t.Fatalf("output file: %s", body)
	}
	c.do(t, env.Request(t, "GET", "/v1/batches?limit=10", ""), http.StatusOK)
	_, body = c.do(t, env.Request(t, "POST", "/v1/batches/"+b.ID+"/cancel", ""), http.StatusConflict)
	wantCode(t, body, "batch_not_cancellable")

	var running struct{ ID string }
	_, body = c.do(t, create(slow.ID), http.StatusOK)
	decode(t, body, &running)
	_, body = c.do(t, env.Request(t, "DELETE", "/v1/files/"+slow.ID, ""), http.StatusConflict)
	wantCode(t, body, "file_in_use")
	c.do(t, env.Request(t, "POST", "/v1/batches/"+running.ID+"/cancel", ""), http.StatusOK)
	_, body = c.do(t, create("file-nope"), http.StatusNotFound)
	wantCode(t, body, "file_not_found")
	_, body = c.do(t, env.Request(t, "POST", "/v1/batches", `{"input_file_id":"`+in.ID+`","endpoint":"/v1/embeddings","completion_window":"24h"}`), http.StatusBadRequest)
	wantCode(t, body, "invalid_request")
	_, body = c.do(t, env.Request(t, "GET", "/v1/batches/batch_nope", ""), http.StatusNotFound)
	wantCode(t, body, "batch_not_found")
	_, body = c.do(t, withHeader(asUser(env.Request(t, "POST", "/v1/batches/"+running.ID+"/cancel", "")), "SPASS-User-Id", "mallory"), http.StatusNotFound)
	wantCode(t, body, "batch_not_found")
	readOnly := withHeader(env.Request(t, "DELETE", "/v1/files/"+in.ID, ""), "Authorization", "Bearer "+gatewaytest.ReadOnlyToken)
	_, body = c.do(t, readOnly, http.StatusForbidden)
	wantCode(t, body, "permission_denied")
	var gone map[string]any
	_, body = c.do(t, env.Request(t, "DELETE", "/v1/files/"+in.ID, ""), http.StatusOK)
	if json.Unmarshal(body, &gone); gone["deleted"] != true {
		t.Fatalf("delete: %s", body)
	}
}
