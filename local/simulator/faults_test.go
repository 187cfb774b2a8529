package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// inferenceRoutes are a valid request for each inference endpoint.
var inferenceRoutes = []struct {
	path string
	body object
}{
	{"/v1/chat/completions", object{"model": "sim-chat", "messages": userMessage("hello")}},
	{"/v1/embeddings", object{"model": "sim-embed", "input": "hello"}},
	{"/v1/images/generations", object{"prompt": "hello", "size": "8x8"}},
}

func TestFaultsOnInference(t *testing.T) {
	for _, route := range inferenceRoutes {
		t.Run(route.path, func(t *testing.T) {
			sim, ts := start(t, Options{Fault: FaultDown})
			if _, err := doPost(ts, route.path, route.body); err == nil {
				t.Error("down: request succeeded, want a transport error")
			}

			sim.SetFault(Fault500)
			checkAPIError(t, post(t, ts, route.path, route.body), http.StatusInternalServerError, "")

			sim.SetFault(Fault429)
			resp := post(t, ts, route.path, route.body)
			if got := resp.Header.Get("Retry-After"); got != "1" {
				t.Errorf("429: Retry-After = %q, want 1", got)
			}
			checkAPIError(t, resp, http.StatusTooManyRequests, "rate_limit_exceeded")

			sim.SetFault(FaultCut)
			resp = post(t, ts, route.path, route.body)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && json.Valid(body) {
				t.Errorf("cut: read a complete response %s", body)
			}

			sim.SetFault(FaultNone)
			decode[object](t, post(t, ts, route.path, route.body), http.StatusOK)

			if got := sim.Requests(); got < 5 {
				t.Errorf("Requests() = %d, want every faulted request counted (5)", got)
			}
			if got := sim.Cancelled(); got != 0 {
				t.Errorf("Cancelled() = %d, want 0", got)
			}
		})
	}
}

func TestFaultHang(t *testing.T) {
	sim, ts := start(t, Options{Fault: FaultHang})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/v1/chat/completions", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ts.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("hang: got status %d, want the client's deadline to expire", resp.StatusCode)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: error %v, want a deadline", err)
	}
	eventually(t, "Cancelled() == 1", func() bool { return sim.Cancelled() == 1 })
	if sim.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", sim.Requests())
	}
}

func TestFaultCutStream(t *testing.T) {
	sim, ts := start(t, Options{Fault: FaultCut})
	for _, words := range []string{"one", "a much longer message that has many words in it"} {
		s := streamChat(t, ts, object{"model": "sim-chat", "messages": userMessage(words)})
		if s.done {
			t.Fatalf("%q: stream reached [DONE] despite the cut", words)
		}
		if s.err == nil {
			t.Fatalf("%q: stream ended without an error", words)
		}
		chunks := s.chunks(t)
		if len(chunks) < 2 || chunks[0].Choices[0].Delta.Role != "assistant" {
			t.Fatalf("%q: got %d chunks, want the role chunk and some content first", words, len(chunks))
		}
		for _, c := range chunks {
			if c.Choices[0].FinishReason != nil {
				t.Errorf("%q: a cut stream sent finish_reason %q", words, *c.Choices[0].FinishReason)
			}
		}
	}
	if sim.Cancelled() != 0 {
		t.Errorf("Cancelled() = %d; the simulator cut the stream, not the client", sim.Cancelled())
	}
}

func TestHealthFaults(t *testing.T) {
	sim, ts := start(t, Options{APIKey: "secret"})
	paths := []string{"/", "/health", "/healthz", "/readyz", "/api/version"}
	for _, f := range []Fault{FaultNone, Fault429, FaultHang, FaultCut} {
		sim.SetFault(f)
		for _, p := range paths {
			if got := decode[object](t, get(t, ts, p), http.StatusOK); got["status"] != "ok" {
				t.Errorf("fault %q: GET %s = %v", f, p, got)
			}
		}
	}

	sim.SetFault(Fault500)
	for _, p := range append(paths, "/v1/models", "/api/tags") {
		resp := get(t, ts, p)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("500: GET %s = %d", p, resp.StatusCode)
		}
	}

	sim.SetFault(FaultDown)
	for _, p := range append(paths, "/v1/models", "/api/tags") {
		if resp, err := ts.Client().Get(ts.URL + p); err == nil {
			resp.Body.Close()
			t.Errorf("down: GET %s = %d, want a transport error", p, resp.StatusCode)
		}
	}
}
