package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"spass/local/simulator"
	"spass/shared/auth"
	"spass/shared/batch"
)

// BatchTarget is how much a running batch may slow interactive chat: its p50
// while the batch runs, over its p50 on the idle gateway.
const BatchTarget = 1.2

// BatchOptions configures the batch benchmark: interactive chat latency on a
// gateway running a batch in-process, against the same gateway idle, and the
// batch's throughput.
type BatchOptions struct {
	Lines int     // lines of the batch
	Rate  float64 // interactive requests per second, open loop, in both phases
	// Idle is the measured time of the idle phase; the busy phase lasts as long
	// as the batch runs.
	Idle time.Duration
	// Tokens and TokenDelay shape every answer, interactive and batch: the
	// simulator takes Tokens × TokenDelay to answer, as a model would.
	Tokens     int
	TokenDelay time.Duration
	// Concurrency is batches.concurrency: the lines in flight on the backend.
	Concurrency int
	Progress    io.Writer
}

// BatchReport is the result of RunBatch; times in microseconds.
type BatchReport struct {
	Lines        int     `json:"lines"`
	Concurrency  int     `json:"batch_concurrency"`
	Rate         float64 `json:"interactive_rate"`
	Tokens       int     `json:"tokens"`
	TokenDelayMS float64 `json:"token_delay_ms"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	Idle         Dist    `json:"idle"`
	Busy         Dist    `json:"busy"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	// Ratio is Busy.P50 over Idle.P50; Met says it is within BatchTarget and
	// nothing failed.
	Ratio float64 `json:"p50_ratio"`
	Met   bool    `json:"met"`
	// Seconds is from the batch's creation to its completion; LinesPerSecond
	// is Lines over it.
	Seconds        float64 `json:"batch_seconds"`
	LinesPerSecond float64 `json:"lines_per_second"`
}

// RunBatch measures interactive chat idle, then while a batch of o.Lines runs
// on the same gateway (the embedded default: jobs in-process, no Redis), and
// the batch's lines per second.
func RunBatch(ctx context.Context, o BatchOptions) (*BatchReport, error) {
	env, err := Start(ctx, simulator.Options{TokenDelay: o.TokenDelay}, GatewaySetup{YAML: fmt.Sprintf("batches: {concurrency: %d}", o.Concurrency)})
	if err != nil {
		return nil, err
	}
	defer env.Close()
	stop, err := env.App.StartJobs(ctx, func(k string) string {
		if k == "SPASS_WORKERS" {
			return "inprocess" // with REDIS_URL set, the workers run here too
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	defer stop()
	client := NewClient()
	defer client.CloseIdleConnections()
	rep := &BatchReport{Lines: o.Lines, Concurrency: o.Concurrency, Rate: o.Rate, Tokens: o.Tokens,
		TokenDelayMS: ms(o.TokenDelay), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	req := Request{Body: ChatBody(o.Tokens, false)}
	timed := func(until func() bool) ([]time.Duration, error) {
		lat, errs, first := interactive(ctx, client, env.GatewayURL, req, o.Rate, until)
		rep.Errors += errs
		if rep.FirstError == "" {
			rep.FirstError = first
		}
		return lat, ctx.Err()
	}
	progress(o.Progress, "batch: warming up, then %v of interactive chat at %.0f req/s on the idle gateway", o.Idle, o.Rate)
	if _, err := timed(deadline(o.Idle / 4)); err != nil {
		return nil, err
	}
	runtime.GC()
	idle, err := timed(deadline(o.Idle))
	if err != nil {
		return nil, err
	}
	progress(o.Progress, "batch: %d lines, interactive chat at %.0f req/s until the batch completes", o.Lines, o.Rate)
	id, err := submitBatch(ctx, client, env.GatewayURL, o)
	if err != nil {
		return nil, err
	}
	done := func() bool {
		b, _, _ := env.App.Store.Batch(ctx, "bench", "", id)
		return !batch.Open(b.Status)
	}
	busy, err := timed(done)
	if err != nil {
		return nil, err
	}
	b, _, err := env.App.Store.Batch(ctx, "bench", "", id)
	if err != nil {
		return nil, err
	}
	if b.Status != batch.Completed || b.Completed != o.Lines {
		return nil, fmt.Errorf("batch %s ended %s with %d of %d lines answered", id, b.Status, b.Completed, o.Lines)
	}
	rep.Idle, rep.Busy = dist(Summarize(idle)), dist(Summarize(busy))
	rep.Ratio = rep.Busy.P50 / rep.Idle.P50
	rep.Met = rep.Ratio <= BatchTarget && rep.Errors == 0
	rep.Seconds = float64(b.CompletedAt-b.CreatedAt) / 1000
	rep.LinesPerSecond = float64(o.Lines) / rep.Seconds
	return rep, nil
}

// interactive sends req open loop at rate until until reports true (checked
// before each send after the first), waits for every answer, and returns the
// latencies of the successes, each from its scheduled send time.
func interactive(ctx context.Context, c *http.Client, url string, req Request, rate float64, until func() bool) ([]time.Duration, int, string) {
	interval := time.Duration(float64(time.Second) / rate)
	var mu sync.Mutex
	var lat []time.Duration
	errs, first := 0, ""
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; ctx.Err() == nil && (i == 0 || !until()); i++ {
		at := start.Add(time.Duration(i) * interval)
		waitUntil(at)
		wg.Go(func() {
			t, err := req.Do(ctx, c, url, i, at)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if errs++; first == "" {
					first = err.Error()
				}
				return
			}
			lat = append(lat, t.Total)
		})
	}
	wg.Wait()
	return lat, errs, first
}

// deadline returns a condition that turns true after d.
func deadline(d time.Duration) func() bool {
	end := time.Now().Add(d)
	return func() bool { return time.Now().After(end) }
}

// submitBatch uploads o.Lines chat lines, answered like the interactive
// requests, and creates their batch.
func submitBatch(ctx context.Context, c *http.Client, url string, o BatchOptions) (string, error) {
	words := make([]string, o.Tokens)
	for i := range words {
		words[i] = fmt.Sprintf("word%d", i)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("purpose", "batch")
	fw, _ := mw.CreateFormFile("file", "bench.jsonl")
	for i := range o.Lines {
		fmt.Fprintf(fw, `{"custom_id":"b%d","method":"POST","url":"/v1/chat/completions","body":{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":%d}}`+"\n",
			i, Model, strings.Join(words, " "), o.Tokens)
	}
	mw.Close()
	var f, b struct{ ID string }
	if err := post(ctx, c, url+"/v1/files", mw.FormDataContentType(), &form, &f); err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	body := `{"input_file_id":"` + f.ID + `","endpoint":"/v1/chat/completions","completion_window":"24h"}`
	if err := post(ctx, c, url+"/v1/batches", "application/json", strings.NewReader(body), &b); err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	return b.ID, nil
}

func post(ctx context.Context, c *http.Client, url, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+Token)
	req.Header.Set(auth.UserHeader, User)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// WriteText prints the report.
func (r *BatchReport) WriteText(w io.Writer) error {
	verdict := "met"
	if !r.Met {
		verdict = "MISSED"
	}
	_, err := fmt.Fprintf(w, `Interactive chat while a %d-line batch runs (batch concurrency %d, %.0f req/s interactive,
answers of %d tokens at %.1f ms per token, GOMAXPROCS %d):

  idle   p50 %8.0f us   p90 %8.0f us   p99 %8.0f us   (%d requests)
  busy   p50 %8.0f us   p90 %8.0f us   p99 %8.0f us   (%d requests)
  p50 busy / idle: %.3fx (target <= %.1fx): %s; %d errors

Batch throughput: %d lines in %.2f s = %.1f lines per second
`, r.Lines, r.Concurrency, r.Rate, r.Tokens, r.TokenDelayMS, r.GOMAXPROCS,
		r.Idle.P50, r.Idle.P90, r.Idle.P99, r.Idle.N, r.Busy.P50, r.Busy.P90, r.Busy.P99, r.Busy.N,
		r.Ratio, BatchTarget, verdict, r.Errors, r.Lines, r.Seconds, r.LinesPerSecond)
	return err
}
