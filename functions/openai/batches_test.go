package openai_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/store"
)

// batchYAML serves sim-chat (priced, so the batch discount shows) and sim-embed
// from "sim", and "broken" from a backend that answers 500; a failing line is
// retried once.
const batchYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
  - {name: down, kind: simulator, base_url: "{{down}}"}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: sim}], pricing: {input: 1000, output: 2000}}
  - {id: sim-embed, type: embedding, chain: [{backend: sim}]}
  - {id: broken, chain: [{backend: down, model: sim-chat}]}
batches: {max_retries: 1, concurrency: 2}
files: {max_bytes: 65536}
`

func startBatches(t *testing.T) *gatewaytest.Env {
	t.Helper()
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim", "down"}, YAML: batchYAML, Jobs: true})
	env.Sims["down"].SetFault(simulator.Fault500)
	return env
}

// as sets the token and end user of req.
func as(req *http.Request, token, user string) *http.Request {
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("SPASS-User-Id", user)
	return req
}

// uploadReq builds a multipart upload of content with purpose.
func uploadReq(t *testing.T, env *gatewaytest.Env, purpose, name, content string) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("purpose", purpose)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	req := env.Request(t, "POST", "/v1/files", body.String())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

type fileObj struct {
	ID, Object, Purpose, Filename, Status string
	Bytes                                 int64
}

// decodeBatch reads a batch object.
func decodeBatch(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	var b map[string]any
	readJSON(t, resp.Body, &b)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, b)
	}
	return b
}

// chatLines is a batch input of n chat lines, custom ids l1...ln.
func chatLines(n int, model string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"custom_id":"l%d","method":"POST","url":"/v1/chat/completions","body":{"model":%q,"messages":[{"role":"user","content":"line %d"}]}}`+"\n", i, model, i)
	}
	return b.String()
}

// uploadBatch uploads a batch file and returns its id.
func uploadBatch(t *testing.T, env *gatewaytest.Env, content string) string {
	t.Helper()
	resp := gatewaytest.Do(t, uploadReq(t, env, "batch", "in.jsonl", content))
	var f fileObj
	readJSON(t, resp.Body, &f)
	if resp.StatusCode != 200 || f.ID == "" || f.Object != "file" || f.Status != "processed" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, f)
	}
	return f.ID
}

// runBatch creates a batch of file and polls it until it ends.
func runBatch(t *testing.T, env *gatewaytest.Env, file, endpoint string) map[string]any {
	t.Helper()
	b := decodeBatch(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches",
		fmt.Sprintf(`{"input_file_id":%q,"endpoint":%q,"completion_window":"24h","metadata":{"run":"nightly"}}`, file, endpoint))))
	return waitBatch(t, env, b["id"].(string))
}

func waitBatch(t *testing.T, env *gatewaytest.Env, id string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b := decodeBatch(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/batches/"+id, "")))
		switch b["status"] {
		case "completed", "failed", "expired", "cancelled":
			return b
		}
	}
	t.Fatalf("batch %s did not end", id)
	return nil
}

// outputLine is one line of a result file.
type outputLine struct {
	ID       string `json:"id"`
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		RequestID  string          `json:"request_id"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct{ Code, Message string } `json:"error"`
}

// resultLines reads a result file's lines by custom_id, failing on a custom_id
// seen twice.
func resultLines(t *testing.T, env *gatewaytest.Env, id any) map[string]outputLine {
	t.Helper()
	out := map[string]outputLine{}
	if id == nil {
		return out
	}
	resp := gatewaytest.Do(t, env.Request(t, "GET", "/v1/files/"+id.(string)+"/content", ""))
	if resp.StatusCode != 200 {
		t.Fatalf("content of %v: %d %s", id, resp.StatusCode, readAll(t, resp))
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l outputLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		if _, dup := out[l.CustomID]; dup {
			t.Fatalf("custom_id %s twice in %v", l.CustomID, id)
		}
		out[l.CustomID] = l
	}
	return out
}

func counts(b map[string]any) (total, completed, failed int) {
	c := b["request_counts"].(map[string]any)
	return int(c["total"].(float64)), int(c["completed"].(float64)), int(c["failed"].(float64))
}

// TestBatchRunsEveryLineOnce runs a batch in-process (no Redis): each line's
// answer in the output file, the line on a failing backend retried and then in
// the error file with its code, each line billed once under the batch surface
// at the tenant's batch discount.
func TestBatchRunsEveryLineOnce(t *testing.T) {
	env := startBatches(t)
	in := chatLines(6, "sim-chat") + `{"custom_id":"bad","method":"POST","url":"/v1/chat/completions","body":{"model":"broken","messages":[{"role":"user","content":"x"}]}}` + "\n"
	b := runBatch(t, env, uploadBatch(t, env, in), "/v1/chat/completions")
	if total, ok, bad := counts(b); b["status"] != "completed" || total != 7 || ok != 6 || bad != 1 {
		t.Fatalf("batch %v", b)
	}
	if b["metadata"].(map[string]any)["run"] != "nightly" || b["completed_at"] == nil || b["usage"].(map[string]any)["total_tokens"].(float64) == 0 {
		t.Fatalf("batch fields %v", b)
	}
	out, errs := resultLines(t, env, b["output_file_id"]), resultLines(t, env, b["error_file_id"])
	if len(out) != 6 || len(errs) != 1 {
		t.Fatalf("%d output and %d error lines", len(out), len(errs))
	}
	for i := 1; i <= 6; i++ {
		l := out[fmt.Sprint("l", i)]
		if l.Response == nil || l.Response.StatusCode != 200 || !strings.Contains(string(l.Response.Body), fmt.Sprintf("You said: line %d", i)) {
			t.Fatalf("line l%d: %+v", i, l)
		}
	}
	if l := errs["bad"]; l.Response == nil || l.Response.StatusCode != 502 || !strings.Contains(string(l.Response.Body), `"code":"upstream_`) {
		t.Fatalf("error line %+v", l)
	}
	if n := env.Sims["down"].Requests(); n != 2 {
		t.Fatalf("the failing line reached its backend %d times, want 2 (one retry)", n)
	}

	rows := env.Ledger(t, "acme")
	billed := map[string]int{}
	for _, r := range rows {
		if r.Surface != "batch" || r.Ref != b["id"] {
			t.Fatalf("ledger row %+v", r)
		}
		billed[r.RequestID]++
	}
	for id, l := range out {
		if billed[l.Response.RequestID] != 1 {
			t.Fatalf("line %s (request %s) billed %d times", id, l.Response.RequestID, billed[l.Response.RequestID])
		}
	}
	// The same request outside a batch costs twice as much (50 % batch discount).
	gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"line 1"}]}`))
	var v1, batched store.LedgerRow
	for _, r := range env.Ledger(t, "acme") {
		if r.Surface == "v1" {
			v1 = r
		} else if r.RequestID == out["l1"].Response.RequestID {
			batched = r
		}
	}
	if v1.CostNanoUSD == 0 || batched.CostNanoUSD*2 != v1.CostNanoUSD {
		t.Fatalf("batch line costs %d, the same request on /v1 %d", batched.CostNanoUSD, v1.CostNanoUSD)
	}
}

// TestEmbeddingsBatch runs a batch of embeddings lines.
func TestEmbeddingsBatch(t *testing.T) {
	env := startBatches(t)
	in := `{"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{"model":"sim-embed","input":"alpha"}}
{"custom_id":"b","method":"POST","url":"/v1/embeddings","body":{"model":"sim-embed","input":["beta","gamma"]}}`
	b := runBatch(t, env, uploadBatch(t, env, in), "/v1/embeddings")
	out := resultLines(t, env, b["output_file_id"])
	if b["status"] != "completed" || len(out) != 2 || !strings.Contains(string(out["b"].Response.Body), `"embedding"`) {
		t.Fatalf("batch %v, output %+v", b, out)
	}
}

// TestBatchCancel cancels a batch whose lines wait behind a gate of one: the
// lines that ran are in the output file, the others in the error file as
// batch_cancelled, each line once.
func TestBatchCancel(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim", "down"}, Jobs: true,
		YAML: strings.Replace(batchYAML, "concurrency: 2", "concurrency: 1", 1), SimOptions: simulator.Options{TokenDelay: 5 * time.Millisecond}})
	b := decodeBatch(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches",
		`{"input_file_id":"`+uploadBatch(t, env, chatLines(40, "sim-chat"))+`","endpoint":"/v1/chat/completions","completion_window":"1h"}`)))
	id := b["id"].(string)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, done, _ := counts(decodeBatch(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/batches/"+id, "")))); done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no line ran")
		}
	}
	c := decodeBatch(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches/"+id+"/cancel", "")))
	if c["status"] != "cancelling" && c["status"] != "cancelled" {
		t.Fatalf("after cancel: %v", c["status"])
	}
	b = waitBatch(t, env, id)
	_, done, _ := counts(b)
	out, errs := resultLines(t, env, b["output_file_id"]), resultLines(t, env, b["error_file_id"])
	if b["status"] != "cancelled" || len(out) != done || len(out)+len(errs) != 40 || done == 40 {
		t.Fatalf("status %v, %d done, %d output and %d error lines", b["status"], done, len(out), len(errs))
	}
	for id, l := range errs {
		if l.Error == nil || l.Error.Code != "batch_cancelled" || l.Response != nil {
			t.Fatalf("line %s: %+v", id, l)
		}
	}
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/batches/"+id+"/cancel", ""))
	if resp.StatusCode != 200 {
		t.Fatalf("cancelling a cancelled batch again: %d", resp.StatusCode)
	}
}

// TestBatchLinesSkipRateLimits: the lines of a batch are paced by the batch
// concurrency, not counted against the tenant's per-minute limits, which stay
// for its interactive requests.
func TestBatchLinesSkipRateLimits(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim", "down"}, YAML: batchYAML, Jobs: true,
		AcmeDefaults: "{ratelimit.user_requests_per_minute: 1}"})
	b := runBatch(t, env, uploadBatch(t, env, chatLines(5, "sim-chat")), "/v1/chat/completions")
	if _, ok, bad := counts(b); b["status"] != "completed" || ok != 5 || bad != 0 {
		t.Fatalf("batch %v", b)
	}
	chat := func() *http.Response { return gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello)) }
	if resp := chat(); resp.StatusCode != 200 {
		t.Fatalf("the first interactive request: %d", resp.StatusCode)
	}
	expectError(t, chat(), 429, "rate_limit_exceeded")
}
