package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"spass/local/gatewaytest"
	"spass/local/lambda"
	"spass/local/logbuf"
	"spass/local/simulator"
)

const bundleToken = "sk-lambda-test"

// startBundle runs every function's real bootstrap under the emulator, on the
// routes lambda-local serves, with one simulator backend behind h; extra is
// added to the functions' environment.
func startBundle(t *testing.T, backend http.Handler, extra ...string) (*lambda.Emulator, string) {
	t.Helper()
	bins := gatewaytest.Bootstraps(t)
	tpl := loadTemplate(t)
	routes, err := lambda.BundleRoutes(tpl)
	if err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer(backend)
	t.Cleanup(sim.Close)
	env := []string{"BACKEND_KIND=simulator", "BACKEND_BASE_URL=" + sim.URL, "MODEL_NAME=sim-chat,sim-vision", "API_KEYS=" + bundleToken}
	env = append(env, extra...)
	logs := &logbuf.Buffer{}
	fns := lambda.BundleFunctions(tpl, bins, env)
	for i := range fns {
		fns[i].Timeout = time.Minute // a stuck function fails the test, not the whole binary's deadline
	}
	e, err := lambda.New(fns, routes, logs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		e.Close() // first: killing the functions ends any response still relayed
		srv.Close()
		if t.Failed() {
			t.Logf("emulator log:\n%s", logs)
		}
	})
	return e, srv.URL
}

// TestBundleUnderLambda drives the real bootstraps through the Runtime API with the
// official OpenAI Go SDK: buffered HTTP API routes, and chat streams through the
// Function URL that reach the client while the backend is still generating.
func TestBundleUnderLambda(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	e, url := startBundle(t, g.wrap(simulator.New(simulator.Options{})))
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey(bundleToken),
		option.WithHeader("SPASS-User-Id", "alice"), option.WithMaxRetries(0), option.WithRequestTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("buffered routes", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(page.Data, func(m openai.Model) bool { return m.ID == "sim-chat" }) {
			t.Errorf("models %+v lack sim-chat", page.Data)
		}
		_, err = client.Models.Get(ctx, "no-such-model")
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
			t.Errorf("unknown model: %v, want the catalog's 404 model_not_found", err)
		}
		resp, err := http.Get(url + "/errors")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var catalog struct{ Data []json.RawMessage }
		if err := json.NewDecoder(resp.Body).Decode(&catalog); err != nil || resp.StatusCode != http.StatusOK || len(catalog.Data) == 0 {
			t.Errorf("GET /errors: %d, %d entries, %v", resp.StatusCode, len(catalog.Data), err)
		}
	})

	t.Run("concurrent streams arrive before the backend finishes", func(t *testing.T) {
		const n = 3
		var firsts, done sync.WaitGroup
		firsts.Add(n)
		done.Add(n)
		results := make(chan string, n)
		for range n {
			go func() {
				defer done.Done()
				results <- streamChat(ctx, client, g, firsts.Done)
			}()
		}
		waited := make(chan struct{})
		go func() { firsts.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second): // a failure bound, not a speed requirement
			t.Fatal("not every stream delivered a content chunk while the backend was held: the Lambda path buffers")
		}
		close(g.open) // let the backends finish
		done.Wait()
		close(results)
		for r := range results {
			if r != "" {
				t.Error(r)
			}
		}
		if got := g.count(&g.gated); got != n {
			t.Errorf("the backend gate held %d streams, want %d: did the simulator's chunks change?", got, n)
		}
		if got := e.Started("ChatFunction"); got != n {
			t.Errorf("ChatFunction ran %d instances for %d concurrent streams", got, n)
		}
	})

	t.Run("non-streamed chat through the Function URL", func(t *testing.T) {
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "sim-chat",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Choices) != 1 || c.Choices[0].Message.Content == "" || c.Usage.TotalTokens == 0 {
			t.Errorf("completion %+v", c)
		}
	})
}

// streamChat streams one chat and calls first when the first content arrives. It
// returns what went wrong, or "".
func streamChat(ctx context.Context, client openai.Client, g *gate, first func()) string {
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "sim-chat",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me about streaming")},
	})
	defer stream.Close()
	var content string
	chunks := 0
	for stream.Next() {
		chunk := stream.Current()
		chunks++
		if len(chunk.Choices) == 0 || chunk.Choices[0].Delta.Content == "" {
			continue
		}
		if content == "" {
			// The backend cannot have finished: its last chunk waits for the gate.
			if done := g.count(&g.finished); done != 0 {
				return "a content chunk arrived after a backend had finished"
			}
			first()
		}
		content += chunk.Choices[0].Delta.Content
	}
	if err := stream.Err(); err != nil {
		return err.Error()
	}
	if content == "" || chunks < 3 {
		return "the stream carried no content"
	}
	return ""
}

// gate holds every streamed chat in the backend just before its finishing chunk,
// until open is closed, and counts the streams it held and the backend responses
// that finished.
type gate struct {
	open            chan struct{}
	mu              sync.Mutex
	gated, finished int
}

var finishMarker = []byte(`"finish_reason":"`)

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&gatedWriter{ResponseWriter: w, g: g, r: r}, r)
		if r.URL.Path == "/v1/chat/completions" {
			g.add(&g.finished)
		}
	})
}

func (g *gate) add(n *int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	*n++
}

func (g *gate) count(n *int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return *n
}

type gatedWriter struct {
	http.ResponseWriter
	g *gate
	r *http.Request
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	if w.Header().Get("Content-Type") == "text/event-stream" && bytes.Contains(p, finishMarker) {
		w.g.add(&w.g.gated)
		select {
		case <-w.g.open:
		case <-w.r.Context().Done():
		}
	}
	return w.ResponseWriter.Write(p)
}

func (w *gatedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
