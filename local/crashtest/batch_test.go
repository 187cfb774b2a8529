package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/functions"
	"spass/local/proctest"
	"spass/local/redistest"
	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/batch"
	"spass/shared/config"
	"spass/shared/store"
)

// redisDB is this package's own Redis database.
const redisDB = 13

// crashLines is the size of the batches killed here. A process dies with at
// most as many lines running as it runs jobs at once (workerJobs for the
// workers binary, 4 in the gateway's in-process runner): only those may reach
// the backend twice. gate is the batch concurrency per backend.
const (
	crashLines = 1000
	workerJobs = 8
	localJobs  = 4
	gate       = 4
)

// TestKill9WorkersMidBatch kills the workers binary with SIGKILL in the middle
// of a 1,000-line batch and starts it again: asynq hands the lines the dead
// worker held to the new one, and the batch completes with exactly one result
// per line. A line whose result was stored before the kill never reaches the
// backend again, so the backend sees at most the lines in flight twice.
func TestKill9WorkersMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the workers binary")
	}
	redistest.Open(t, redisDB)
	dir := t.TempDir()
	bin := proctest.Build(t, dir, "spass/workers")
	sim := simulator.New(simulator.Options{TokenDelay: 3 * time.Millisecond})
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	env := []string{"SPASS_CONFIG=" + writeConfig(t, dir, simSrv.URL), "SPASS_DATA_DIR=" + filepath.Join(dir, "data"),
		fmt.Sprintf("REDIS_URL=redis://127.0.0.1:6379/%d", redisDB), fmt.Sprintf("SPASS_WORKER_CONCURRENCY=%d", workerJobs)}
	a, url := openGateway(t, env) // enqueues on Redis; the workers run the jobs

	workers := proctest.Start(t, bin, env, nil)
	id := createBatch(t, url)
	killMidway(t, a, id, workers)

	proctest.Start(t, bin, env, nil)       // killed when the test ends
	b := waitDone(t, a, id, 4*time.Minute) // asynq recovers the dead worker's tasks once their lease expired
	checkOutput(t, a, b)
	if n := sim.Requests(); n < crashLines || n > crashLines+workerJobs {
		t.Fatalf("the backend served %d requests for %d lines: only the %d running at the kill may run twice", n, crashLines, workerJobs)
	} else {
		t.Logf("the backend served %d requests for %d lines", n, crashLines)
	}
	// The workers' ledger writer commits off the jobs' path, and the restarted
	// workers replay the dead one's journal: wait for every line's row.
	var rows []store.LedgerRow
	billed := map[string]int{}
	for deadline := time.Now().Add(time.Minute); len(billed) < crashLines && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		rows, _ = a.Store.LedgerRows(context.Background(), "acme", 0, time.Now().Add(time.Hour).UnixMilli())
		clear(billed)
		for _, r := range rows {
			billed[r.RequestID]++
		}
	}
	if len(billed) != crashLines || len(rows) > crashLines+workerJobs {
		t.Fatalf("%d ledger rows for %d requests; want one request per line, each billed once (twice at most for the %d running)", len(rows), len(billed), workerJobs)
	}
}

// TestKill9GatewayMidBatch does the same to the gateway running jobs
// in-process (no Redis, the embedded default): nothing of its queues survives,
// so the first sweep of the restarted gateway dispatches the batch again, and
// only its lines without a result run.
func TestKill9GatewayMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the gateway binary")
	}
	dir := t.TempDir()
	bin := proctest.Build(t, dir, "spass/local/cmd/gateway")
	sim := simulator.New(simulator.Options{TokenDelay: 3 * time.Millisecond})
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	addr := proctest.FreeAddr(t)
	data := filepath.Join(dir, "data")
	env := []string{"SPASS_CONFIG=" + writeConfig(t, dir, simSrv.URL), "SPASS_DATA_DIR=" + data, "SPASS_ADDR=" + addr}
	gw := proctest.Start(t, bin, env, nil)
	proctest.WaitHealthy(t, addr, 20*time.Second)
	db, err := store.Open(context.Background(), filepath.Join(data, "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader := &app.App{Store: db}
	id := createBatch(t, "http://"+addr)
	killMidway(t, reader, id, gw)

	proctest.Start(t, bin, env, nil) // killed when the test ends
	proctest.WaitHealthy(t, addr, 20*time.Second)
	checkOutput(t, reader, waitDone(t, reader, id, 2*time.Minute))
	if n := sim.Requests(); n < crashLines || n > crashLines+localJobs {
		t.Fatalf("the backend served %d requests for %d lines: only the %d running at the kill may run twice", n, crashLines, localJobs)
	} else {
		t.Logf("the backend served %d requests for %d lines", n, crashLines)
	}
}

// writeConfig writes the gateway.yaml both processes read.
func writeConfig(t *testing.T, dir, simURL string) string {
	t.Helper()
	path := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(`backends: [{name: sim, kind: simulator, base_url: %q}]
models: [{id: sim-chat, chain: [{backend: sim}], pricing: {input: 1, output: 2}}]
tenants: {acme: {tokens: [{name: t, sha256: %s, role: user}]}}
batches: {concurrency: %d}
`, simURL, auth.Digest(token), gate)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openGateway serves the gateway of env in this process, until the test ends.
func openGateway(t *testing.T, env []string) (*app.App, string) {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(functions.Handler(a))
	t.Cleanup(func() { srv.Close(); a.Close() })
	return a, srv.URL
}

// call sends an authenticated request and decodes its JSON answer into out.
func call(t *testing.T, method, url, contentType string, body io.Reader, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("SPASS-User-Id", "eval")
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, out) != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
}

// createBatch uploads crashLines chat lines and creates their batch.
func createBatch(t *testing.T, url string) string {
	t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("purpose", "batch")
	fw, _ := mw.CreateFormFile("file", "lines.jsonl")
	for i := range crashLines {
		fmt.Fprintf(fw, `{"custom_id":"c%d","method":"POST","url":"/v1/chat/completions","body":{"model":"sim-chat","messages":[{"role":"user","content":"line %d"}]}}`+"\n", i, i)
	}
	mw.Close()
	var f, b struct{ ID string }
	call(t, "POST", url+"/v1/files", mw.FormDataContentType(), &form, &f)
	call(t, "POST", url+"/v1/batches", "application/json",
		strings.NewReader(`{"input_file_id":"`+f.ID+`","endpoint":"/v1/chat/completions","completion_window":"24h"}`), &b)
	return b.ID
}

// killMidway kills proc with SIGKILL once a fifth of the batch has results, and
// fails unless the batch was then still running.
func killMidway(t *testing.T, a *app.App, id string, proc *exec.Cmd) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		b, _, _ := a.Store.Batch(context.Background(), "acme", "", id)
		if b.Completed >= crashLines/5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch made no progress: %+v", b)
		}
	}
	proctest.Kill(proc) // SIGKILL: no shutdown, no drain
	b, _, _ := a.Store.Batch(context.Background(), "acme", "", id)
	if b.Status != batch.InProgress || b.Completed >= crashLines {
		t.Fatalf("the batch was not midway at the kill: %s, %d done", b.Status, b.Completed)
	}
	t.Logf("killed with %d of %d lines done", b.Completed, crashLines)
}

func waitDone(t *testing.T, a *app.App, id string, limit time.Duration) batch.Batch {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if b, _, _ := a.Store.Batch(context.Background(), "acme", "", id); !batch.Open(b.Status) {
			return b
		}
	}
	t.Fatalf("batch %s did not end", id)
	return batch.Batch{}
}

// checkOutput requires the batch completed with exactly one successful line per
// custom_id in its output file, and no error file.
func checkOutput(t *testing.T, a *app.App, b batch.Batch) {
	t.Helper()
	if b.Status != batch.Completed || b.Completed != crashLines || b.Failed != 0 || b.ErrorFileID != "" {
		t.Fatalf("batch %+v", b)
	}
	f, err := os.Open(filepath.Join(filepath.Dir(a.Store.Path), "files", "acme", b.OutputFileID))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l batch.Output
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if seen[l.CustomID] || l.Response == nil || l.Response.StatusCode != 200 {
			t.Fatalf("line %s: twice %v, %+v", l.CustomID, seen[l.CustomID], l.Response)
		}
		seen[l.CustomID] = true
	}
	if len(seen) != crashLines {
		t.Fatalf("%d distinct lines in the output, want %d", len(seen), crashLines)
	}
}
