package lambda_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"spass/local/pgtest"
	"spass/local/simulator"
	"spass/shared/config"
	"spass/shared/store"
)

// TestBundleOnPostgresBillsBeforeTheInvocationEnds runs the real bootstraps on
// one PostgreSQL database (DATABASE_URL) and drives them with the OpenAI Go SDK.
// A sandbox is frozen when its invocation returns, so each answered request must
// have its ledger row as soon as the client has the answer (buffered, streamed
// and through the HTTP API), and exactly one row once the functions are stopped.
func TestBundleOnPostgresBillsBeforeTheInvocationEnds(t *testing.T) {
	dsn := pgtest.URL(t)
	e, url := startBundle(t, simulator.New(simulator.Options{}), "DATABASE_URL="+dsn, "SPASS_DATA_DIR="+t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey(bundleToken),
		option.WithHeader("SPASS-User-Id", "alice"), option.WithMaxRetries(0), option.WithRequestTimeout(time.Minute))

	var mu sync.Mutex
	answered := map[string]bool{}
	billedAtOnce := func(t *testing.T, resp *http.Response) {
		t.Helper()
		id := resp.Header.Get("SPASS-Request-Id")
		rows, err := db.LedgerByRequest(ctx, config.DefaultTenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if id == "" || len(rows) != 1 || rows[0].Status != http.StatusOK || rows[0].CompletionTokens == 0 {
			t.Errorf("request %q answered with %d ledger rows %+v, want its one row committed before the answer", id, len(rows), rows)
		}
		mu.Lock()
		answered[id] = true
		mu.Unlock()
	}
	msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello from a Lambda function")}

	t.Run("buffered", func(t *testing.T) {
		var resp *http.Response
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "sim-chat", Messages: msgs}, option.WithResponseInto(&resp))
		if err != nil || len(c.Choices) != 1 {
			t.Fatalf("%v %+v", err, c)
		}
		billedAtOnce(t, resp)
	})
	t.Run("streamed, concurrently", func(t *testing.T) {
		// Read to the end of the body, which is the end of the invocation: an SDK
		// stops at "data: [DONE]", which the handler writes before it bills.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				body := `{"model": "sim-chat", "stream": true, "messages": [{"role": "user", "content": "Hello"}]}`
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+bundleToken)
				req.Header.Set("SPASS-User-Id", "alice")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "data: [DONE]") {
					t.Errorf("stream: %d %v %s", resp.StatusCode, err, b)
					return
				}
				billedAtOnce(t, resp)
			})
		}
		wg.Wait()
	})
	t.Run("streamed through the SDK", func(t *testing.T) {
		var resp *http.Response
		s := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "sim-chat", Messages: msgs}, option.WithResponseInto(&resp))
		content := ""
		for s.Next() {
			if c := s.Current(); len(c.Choices) > 0 {
				content += c.Choices[0].Delta.Content
			}
		}
		if err := s.Err(); err != nil || content == "" {
			t.Fatalf("%v %q", err, content)
		}
		s.Close()
		mu.Lock()
		answered[resp.Header.Get("SPASS-Request-Id")] = true // its row is checked after the functions stop
		mu.Unlock()
	})
	t.Run("models", func(t *testing.T) {
		if _, err := client.Models.List(ctx); err != nil {
			t.Fatal(err)
		}
	})

	if err := e.Close(); err != nil {
		t.Logf("stopping the functions: %v", err)
	}
	rows, err := db.LedgerRows(ctx, config.DefaultTenant, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.RequestID]++
	}
	for id := range answered {
		if seen[id] != 1 {
			t.Errorf("request %s has %d ledger rows after the functions stopped, want 1", id, seen[id])
		}
	}
	if len(answered) != 5 || len(rows) != len(answered) {
		t.Errorf("%d requests answered, %d ledger rows: want 5 and one each", len(answered), len(rows))
	}
}
