package openai_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/batch"
)

// TestFilesLifecycle uploads, lists, reads and deletes files: a batch file and
// one of another purpose, kept byte for byte.
func TestFilesLifecycle(t *testing.T) {
	env := startBatches(t)
	in := chatLines(2, "sim-chat")
	id := uploadBatch(t, env, in)
	resp := gatewaytest.Do(t, uploadReq(t, env, "user_data", "../../notes.txt", "any bytes\x00at all"))
	var other fileObj
	readJSON(t, resp.Body, &other)
	if resp.StatusCode != 200 || other.Purpose != "user_data" || other.Filename != "notes.txt" || other.Bytes != 16 {
		t.Fatalf("user_data upload: %d %+v", resp.StatusCode, other)
	}

	list := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files", "")))
	if !strings.Contains(list, id) || !strings.Contains(list, other.ID) || !strings.Contains(list, `"has_more":false`) {
		t.Fatalf("list: %s", list)
	}
	if list := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files?purpose=batch", ""))); strings.Contains(list, other.ID) {
		t.Fatalf("purpose filter: %s", list)
	}
	page := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files?limit=1", "")))
	if !strings.Contains(page, other.ID) || !strings.Contains(page, `"has_more":true`) {
		t.Fatalf("first page, newest first: %s", page)
	}
	if next := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files?limit=1&after="+other.ID, ""))); !strings.Contains(next, id) {
		t.Fatalf("second page: %s", next)
	}
	if got := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files/"+id+"/content", ""))); got != in {
		t.Fatalf("content %q, uploaded %q", got, in)
	}
	if got := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files/"+id, ""))); !strings.Contains(got, `"filename":"in.jsonl"`) {
		t.Fatalf("get: %s", got)
	}
	if resp := gatewaytest.Do(t, env.Request(t, "DELETE", "/v1/files/"+other.ID, "")); resp.StatusCode != 200 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	expectError(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files/"+other.ID+"/content", "")), 404, "file_not_found")
	if left, _ := filepath.Glob(filepath.Join(env.App.Config.DataDir, "files", "acme", "*")); len(left) != 1 {
		t.Fatalf("on disk after the delete: %v", left)
	}
}

// TestBatchFileCheckedOnUpload refuses input files with line-numbered errors,
// and keeps nothing of them.
func TestBatchFileCheckedOnUpload(t *testing.T) {
	env := startBatches(t)
	line := func(id, url, body string) string {
		return fmt.Sprintf(`{"custom_id":%q,"method":"POST","url":%q,"body":%s}`+"\n", id, url, body)
	}
	const chat = "/v1/chat/completions"
	ok := `{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}`
	cases := []struct{ name, content, want string }{
		{"duplicate custom_id", line("a", chat, ok) + line("a", chat, ok), `line 2, custom_id: The custom_id "a" is already used by line 1`},
		{"unknown model", line("a", chat, ok) + "\n" + line("b", chat, `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`), "line 3, body.model:"},
		{"stream", line("a", chat, `{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`), "line 1, body.stream:"},
		{"no messages", line("a", chat, `{"model":"sim-chat"}`), "line 1, body.messages:"},
		{"duplicate key in the body", line("a", chat, `{"model":"sim-chat","model":"broken","messages":[]}`), "line 1, body.model:"},
		{"two endpoints", line("a", chat, ok) + line("b", "/v1/embeddings", `{"model":"sim-embed","input":"x"}`), "line 2, url: Every line"},
		{"not an endpoint", line("a", "/v1/images/generations", `{}`), "line 1, url:"},
		{"not JSON", "{\"custom_id\":\n", "line 1: the line is not a JSON object"},
		{"no body", `{"custom_id":"a","method":"POST","url":"/v1/chat/completions"}`, "line 1: body must be a JSON object"},
		{"GET", strings.Replace(line("a", chat, ok), "POST", "GET", 1), "line 1, method:"},
		{"empty", "\n\n", "no request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := expectError(t, gatewaytest.Do(t, uploadReq(t, env, "batch", "in.jsonl", tc.content)), 400, "invalid_batch_file")
			if !strings.Contains(e.Error.Message, tc.want) {
				t.Fatalf("message %q lacks %q", e.Error.Message, tc.want)
			}
		})
	}
	if list := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files", ""))); strings.Contains(list, "file-") {
		t.Fatalf("a refused file was kept: %s", list)
	}
	if left, _ := filepath.Glob(filepath.Join(env.App.Config.DataDir, "files", "acme", "*")); len(left) != 0 {
		t.Fatalf("left on disk: %v", left)
	}
	if entries, _ := os.ReadDir(filepath.Join(env.App.Config.DataDir, "files", "acme")); len(entries) != 0 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// TestUploadLimits refuses files past files.max_bytes (64 KiB here), bad
// purposes and malformed forms.
func TestUploadLimits(t *testing.T) {
	env := startBatches(t)
	expectError(t, gatewaytest.Do(t, uploadReq(t, env, "user_data", "big", strings.Repeat("x", 65537))), 413, "file_too_large")
	expectError(t, gatewaytest.Do(t, uploadReq(t, env, "fine-tunes", "x", "x")), 400, "invalid_request")
	expectError(t, gatewaytest.Do(t, uploadReq(t, env, "", "x", "x")), 400, "missing_parameter")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/files", `{"purpose":"batch"}`)), 400, "invalid_request")
	if resp := gatewaytest.Do(t, uploadReq(t, env, "user_data", "fits", strings.Repeat("x", 65536))); resp.StatusCode != 200 {
		t.Fatalf("a file of exactly the limit: %d", resp.StatusCode)
	}
}

// TestFilesAndBatchesAreScoped: another tenant sees nothing of acme's files and
// batches, an ordinary user only their own, and read-only changes nothing.
func TestFilesAndBatchesAreScoped(t *testing.T) {
	env := startBatches(t)
	bob := func(req *http.Request) *http.Request { return as(req, gatewaytest.UserToken, "bob") }
	resp := gatewaytest.Do(t, bob(uploadReq(t, env, "batch", "in.jsonl", chatLines(1, "sim-chat"))))
	var f fileObj
	readJSON(t, resp.Body, &f)
	b := runBatch(t, env, uploadBatch(t, env, chatLines(1, "sim-chat")), "/v1/chat/completions") // alice's (an admin)
	batchID := b["id"].(string)

	other := func(req *http.Request) *http.Request { return as(req, gatewaytest.OtherToken, "alice") }
	carol := func(req *http.Request) *http.Request { return as(req, gatewaytest.UserToken, "carol") }
	for _, who := range []func(*http.Request) *http.Request{other, carol} {
		for _, path := range []string{"/v1/files/" + f.ID, "/v1/files/" + f.ID + "/content"} {
			expectError(t, gatewaytest.Do(t, who(env.Request(t, "GET", path, ""))), 404, "file_not_found")
		}
		expectError(t, gatewaytest.Do(t, who(env.Request(t, "DELETE", "/v1/files/"+f.ID, ""))), 404, "file_not_found")
		expectError(t, gatewaytest.Do(t, who(env.Request(t, "GET", "/v1/batches/"+batchID, ""))), 404, "batch_not_found")
		expectError(t, gatewaytest.Do(t, who(env.Request(t, "POST", "/v1/batches/"+batchID+"/cancel", ""))), 404, "batch_not_found")
		expectError(t, gatewaytest.Do(t, who(env.Request(t, "POST", "/v1/batches",
			`{"input_file_id":"`+f.ID+`","endpoint":"/v1/chat/completions","completion_window":"24h"}`))), 404, "file_not_found")
		for _, path := range []string{"/v1/files", "/v1/batches"} {
			if list := readAll(t, gatewaytest.Do(t, who(env.Request(t, "GET", path, "")))); strings.Contains(list, f.ID) || strings.Contains(list, batchID) {
				t.Fatalf("%s lists another's objects: %s", path, list)
			}
		}
	}
	if got := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/files/"+f.ID, ""))); !strings.Contains(got, f.ID) {
		t.Fatalf("the tenant admin sees bob's file: %s", got)
	}
	if got := readAll(t, gatewaytest.Do(t, bob(env.Request(t, "GET", "/v1/batches", "")))); strings.Contains(got, batchID) {
		t.Fatalf("bob sees alice's batch: %s", got)
	}
	ro := func(req *http.Request) *http.Request { return as(req, gatewaytest.ReadOnlyToken, "alice") }
	expectError(t, gatewaytest.Do(t, ro(uploadReq(t, env, "batch", "x", chatLines(1, "sim-chat")))), 403, "permission_denied")
	expectError(t, gatewaytest.Do(t, ro(env.Request(t, "DELETE", "/v1/files/"+f.ID, ""))), 403, "permission_denied")
	expectError(t, gatewaytest.Do(t, ro(env.Request(t, "POST", "/v1/batches/"+batchID+"/cancel", ""))), 403, "permission_denied")
}

// TestCreateBatchChecks refuses batches that cannot run.
func TestCreateBatchChecks(t *testing.T) {
	env := startBatches(t)
	chatFile := uploadBatch(t, env, chatLines(1, "sim-chat"))
	resp := gatewaytest.Do(t, uploadReq(t, env, "user_data", "x", "x"))
	var data fileObj
	readJSON(t, resp.Body, &data)
	create := func(body string) *http.Response {
		return gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches", body))
	}
	body := func(file, endpoint, window string) string {
		return fmt.Sprintf(`{"input_file_id":%q,"endpoint":%q,"completion_window":%q}`, file, endpoint, window)
	}
	expectError(t, create(body(chatFile, "/v1/embeddings", "24h")), 400, "invalid_request")
	expectError(t, create(body(chatFile, "/v1/completions", "24h")), 400, "invalid_request")
	expectError(t, create(body(chatFile, "/v1/chat/completions", "2d")), 400, "invalid_request")
	expectError(t, create(body(data.ID, "/v1/chat/completions", "24h")), 400, "invalid_request")
	expectError(t, create(body("file-nope", "/v1/chat/completions", "24h")), 404, "file_not_found")
	expectError(t, create(`{"endpoint":"/v1/chat/completions","completion_window":"24h"}`), 400, "missing_parameter")
	expectError(t, create(`{"input_file_id":"x","endpoint":"/v1/chat/completions","completion_window":"24h","priority":1}`), 400, "invalid_request")
	expectError(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/batches/batch_nope", "")), 404, "batch_not_found")

	b := runBatch(t, env, chatFile, "/v1/chat/completions")
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches/"+b["id"].(string)+"/cancel", "")), 409, "batch_not_cancellable")
	if resp := gatewaytest.Do(t, env.Request(t, "DELETE", "/v1/files/"+chatFile, "")); resp.StatusCode != 200 {
		t.Fatalf("deleting the input of a finished batch: %d", resp.StatusCode)
	}
}

// TestBatchInputKeptWhileRunning refuses to delete the input of a batch that has
// not finished, and refuses batches where no job runner would run them.
func TestBatchInputKeptWhileRunning(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim", "down"}, YAML: batchYAML}) // no job runner
	file := uploadBatch(t, env, chatLines(1, "sim-chat"))
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches",
		`{"input_file_id":"`+file+`","endpoint":"/v1/chat/completions","completion_window":"24h"}`)), 501, "not_configured")
	if list := readAll(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/batches", ""))); strings.Contains(list, "batch_") {
		t.Fatalf("a batch nobody runs was kept: %s", list)
	}
	running := batch.Batch{ID: batch.NewBatchID(), TenantID: "acme", UserID: "alice", Role: "admin", Endpoint: batch.EndpointChat,
		InputFileID: file, CompletionWindow: "24h", Metadata: "{}", Status: batch.InProgress, Total: 1, CreatedAt: 1, ExpiresAt: 1 << 50}
	if err := env.App.Store.CreateBatch(context.Background(), running); err != nil {
		t.Fatal(err)
	}
	expectError(t, gatewaytest.Do(t, env.Request(t, "DELETE", "/v1/files/"+file, "")), 409, "file_in_use")
}
