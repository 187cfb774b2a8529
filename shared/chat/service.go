package chat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/router"
)

// Response headers that say how a request was served.
const (
	HeaderBackend   = "SPASS-Backend"
	HeaderTier      = "SPASS-Tier"
	HeaderFallbacks = "SPASS-Fallback-Count"
)

// maxResponse bounds a buffered (non-streamed) upstream answer.
const maxResponse = 64 << 20

// Usage is the token accounting of one request, as the backend reported it.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
}

// Result describes how a request was served, for billing and metrics.
type Result struct {
	Model     string
	Backend   string
	Tier      int
	Fallbacks int
	Usage     Usage
	// Interrupted is set when a stream ended early (upstream cut or client gone).
	Interrupted bool
}

// Service runs chat and embeddings requests against the router.
type Service struct {
	Router *router.Router
	// FirstByte bounds the wait for a stream's first event, and the gap between events.
	FirstByte time.Duration
	// Response bounds a non-streamed answer.
	Response time.Duration
}

// Complete serves a chat completion: it writes the answer (JSON or SSE) to w and
// returns what happened. An error is returned only when nothing was written yet.
func (s *Service) Complete(ctx context.Context, p auth.Principal, req *Request, w http.ResponseWriter) (Result, error) {
	m := s.Router.Model(req.Model)
	if m == nil || m.Type != "chat" {
		return Result{}, modelNotFound(req.Model)
	}
	res := Result{Model: req.Model}
	served, err := s.Router.Do(ctx, m, req.Needs, func(ctx context.Context, t router.Target, fallbacks int) error {
		body, err := upstreamBody(req.Raw, req.Model, t.Model, req.Stream && !req.IncludeUsage)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		res.Backend, res.Tier, res.Fallbacks = t.Backend.Name, t.Tier, fallbacks
		if req.Stream {
			return s.stream(ctx, t, body, req.IncludeUsage, w, &res)
		}
		return s.buffered(ctx, t, "/chat/completions", body, w, &res)
	})
	res.Fallbacks = served.Fallbacks
	setFallbackHeader(w, served.Fallbacks)
	return res, err
}

// Embed serves /v1/embeddings.
func (s *Service) Embed(ctx context.Context, p auth.Principal, req *EmbeddingsRequest, w http.ResponseWriter) (Result, error) {
	m := s.Router.Model(req.Model)
	if m == nil || m.Type != "embedding" {
		return Result{}, modelNotFound(req.Model)
	}
	res := Result{Model: req.Model}
	served, err := s.Router.Do(ctx, m, []backend.Capability{backend.Embeddings}, func(ctx context.Context, t router.Target, fallbacks int) error {
		body, err := upstreamBody(req.Raw, req.Model, t.Model, false)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		res.Backend, res.Tier, res.Fallbacks = t.Backend.Name, t.Tier, fallbacks
		return s.buffered(ctx, t, "/embeddings", body, w, &res)
	})
	res.Fallbacks = served.Fallbacks
	setFallbackHeader(w, served.Fallbacks)
	return res, err
}

func modelNotFound(id string) error {
	e := apierr.P(apierr.ModelNotFound, "model", fmt.Sprintf("The model %q does not exist or is not served by this gateway.", id))
	return e
}

// buffered relays a non-streamed answer once it is complete, so a failure before it
// can still fall back.
func (s *Service) buffered(ctx context.Context, t router.Target, path string, body []byte, w http.ResponseWriter, res *Result) error {
	actx, cancel := context.WithTimeout(ctx, s.Response)
	defer cancel()
	resp, err := t.Backend.Post(actx, path, body, false)
	if err != nil {
		return transportFailure(ctx, actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusFailure(resp)
	}
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return transportFailure(ctx, actx, err)
	}
	if !gjson.ValidBytes(out) {
		return &router.Failure{Status: http.StatusBadGateway, Cause: fmt.Errorf("backend %s sent invalid JSON", t.Backend.Name)}
	}
	res.Usage = parseUsage(gjson.GetBytes(out, "usage"))
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	setServedHeaders(w, t, res.Fallbacks)
	w.WriteHeader(http.StatusOK)
	w.Write(out) // a failed write means the client left; the answer was served
	return nil
}

// transportFailure classifies an error talking to the backend.
func transportFailure(parent, attempt context.Context, err error) error {
	if parent.Err() != nil {
		return parent.Err() // the client went away
	}
	return &router.Failure{Timeout: attempt.Err() != nil, Cause: err}
}

// statusFailure maps a non-200 upstream answer: 5xx, 429, 404, 401/403 fall back to
// the next tier; other 4xx are the caller's and end the request with a catalog error.
func statusFailure(resp *http.Response) error {
	msg := upstreamMessage(resp.Body)
	cause := fmt.Errorf("upstream status %d: %s", resp.StatusCode, msg)
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &router.Failure{Status: c, RetryAfter: ra, Healthy: true, Cause: cause}
	case c >= 500:
		return &router.Failure{Status: c, Cause: cause}
	case c == http.StatusNotFound || c == http.StatusUnauthorized || c == http.StatusForbidden:
		return &router.Failure{Status: c, Healthy: true, Cause: cause}
	}
	text := apierr.Lookup(apierr.UpstreamBadRequest).Message
	if msg != "" {
		text = strings.TrimSuffix(text, ".") + ": " + msg
	}
	return apierr.E(apierr.UpstreamBadRequest, text, cause)
}

// upstreamMessage extracts error.message (or message) from an upstream error body,
// bounded, so the client learns why without seeing the raw body.
func upstreamMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 16<<10))
	m := gjson.GetBytes(b, "error.message")
	if m.Type != gjson.String {
		m = gjson.GetBytes(b, "message")
	}
	if m.Type != gjson.String {
		m = gjson.GetBytes(b, "error")
	}
	s := m.String()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func parseUsage(u gjson.Result) Usage {
	if !u.IsObject() {
		return Usage{}
	}
	return Usage{
		PromptTokens:     u.Get("prompt_tokens").Int(),
		CompletionTokens: u.Get("completion_tokens").Int(),
		CachedTokens:     u.Get("prompt_tokens_details.cached_tokens").Int(),
	}
}

func setServedHeaders(w http.ResponseWriter, t router.Target, fallbacks int) {
	h := w.Header()
	h[HeaderBackend] = []string{t.Backend.Name}
	h[HeaderTier] = []string{"T" + strconv.Itoa(t.Tier)}
	setFallbackHeader(w, fallbacks)
}

func setFallbackHeader(w http.ResponseWriter, n int) {
	w.Header()[HeaderFallbacks] = []string{strconv.Itoa(n)}
}

// timer cancels an attempt when the backend stays silent too long; Reset re-arms it.
type timer struct {
	t       *time.Timer
	d       time.Duration
	expired atomic.Bool
}

func newTimer(d time.Duration, cancel context.CancelFunc) *timer {
	tm := &timer{d: d}
	tm.t = time.AfterFunc(d, func() { tm.expired.Store(true); cancel() })
	return tm
}

func (tm *timer) reset() { tm.t.Reset(tm.d) }
func (tm *timer) stop()  { tm.t.Stop() }
