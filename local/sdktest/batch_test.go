package sdktest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"spass/local/gatewaytest"
)

// batchLines is the number of requests of the SDK's batch.
const batchLines = 1000

// TestGoSDKBatch drives the Files and Batch APIs with openai-go exactly as a
// tenant's evaluation job would against OpenAI: upload a 1,000-line input file,
// create a batch, poll it to completed, and read the output file, in which every
// line's answer is there once and parses as a ChatCompletion. The gateway runs
// the lines in-process (the embedded default, no Redis).
func TestGoSDKBatch(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Jobs: true})
	client := newClient(env.URL, sdkToken)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var in bytes.Buffer
	for i := range batchLines {
		fmt.Fprintf(&in, `{"custom_id":"q-%04d","method":"POST","url":"/v1/chat/completions","body":{"model":"sim-chat","messages":[{"role":"user","content":"question %d"}]}}`+"\n", i, i)
	}
	file, err := client.Files.New(ctx, openai.FileNewParams{
		File:    openai.File(bytes.NewReader(in.Bytes()), "eval.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch,
	})
	if err != nil {
		t.Fatal(err)
	}
	if file.Purpose != openai.FileObjectPurposeBatch || file.Bytes != int64(in.Len()) || file.Filename != "eval.jsonl" {
		t.Fatalf("file %+v", file)
	}
	batch, err := client.Batches.New(ctx, openai.BatchNewParams{
		InputFileID:      file.ID,
		Endpoint:         openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h,
		Metadata:         shared.Metadata{"suite": "nightly"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for batch.Status != openai.BatchStatusCompleted {
		switch batch.Status {
		case openai.BatchStatusFailed, openai.BatchStatusExpired, openai.BatchStatusCancelled:
			t.Fatalf("batch ended %s: %s", batch.Status, batch.RawJSON())
		}
		time.Sleep(100 * time.Millisecond)
		if batch, err = client.Batches.Get(ctx, batch.ID); err != nil {
			t.Fatal(err)
		}
	}
	if c := batch.RequestCounts; c.Total != batchLines || c.Completed != batchLines || c.Failed != 0 || batch.ErrorFileID != "" {
		t.Fatalf("request counts %+v, error file %q", c, batch.ErrorFileID)
	}
	if batch.Metadata["suite"] != "nightly" || batch.CompletedAt == 0 || batch.Usage.TotalTokens == 0 {
		t.Fatalf("batch %s", batch.RawJSON())
	}

	resp, err := client.Files.Content(ctx, batch.OutputFileID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			CustomID string `json:"custom_id"`
			Response struct {
				StatusCode int                   `json:"status_code"`
				Body       openai.ChatCompletion `json:"body"`
			} `json:"response"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		var i int
		fmt.Sscanf(line.CustomID, "q-%d", &i)
		want := fmt.Sprintf("Hello! You said: question %d", i)
		if seen[line.CustomID] || line.Response.StatusCode != 200 || line.Response.Body.Choices[0].Message.Content != want {
			t.Fatalf("line %s (seen before: %v): %d %q", line.CustomID, seen[line.CustomID], line.Response.StatusCode, line.Response.Body.Choices[0].Message.Content)
		}
		seen[line.CustomID] = true
	}
	if err := sc.Err(); err != nil || len(seen) != batchLines {
		t.Fatalf("%d distinct lines in the output file (%v), want %d", len(seen), err, batchLines)
	}

	found := false
	pager := client.Batches.ListAutoPaging(ctx, openai.BatchListParams{Limit: openai.Int(1)})
	for pager.Next() {
		found = found || pager.Current().ID == batch.ID
	}
	if err := pager.Err(); err != nil {
		t.Fatal(err)
	}
	out, err := client.Files.Get(ctx, batch.OutputFileID)
	if err != nil || !found || out.Purpose != openai.FileObjectPurposeBatchOutput {
		t.Fatalf("listed %v, output file %+v %v", found, out, err)
	}
	if _, err := client.Batches.Cancel(ctx, batch.ID); !isStatus(err, 409) {
		t.Fatalf("cancelling a completed batch: %v", err)
	}
	if del, err := client.Files.Delete(ctx, file.ID); err != nil || !del.Deleted {
		t.Fatalf("delete %+v %v", del, err)
	}
}

// isStatus reports whether err is the SDK's error for an HTTP status.
func isStatus(err error, status int) bool {
	var apiErr *openai.Error
	return errors.As(err, &apiErr) && apiErr.StatusCode == status
}
