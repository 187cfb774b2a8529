package chat

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/billing"
	"spass/shared/identity"
	"spass/shared/router"
	"spass/shared/tenantcfg"
)

// maxResponse bounds a buffered (non-streamed) upstream answer.
const maxResponse = 64 << 20

// call is one request on its way through the pipeline.
type call struct {
	s     *Service
	ctx   context.Context
	p     identity.Principal
	eff   *tenantcfg.Effective // nil without a settings service
	opts  *Options
	sink  Sink
	route string
	start time.Time
	res   Result
	// own is the usage billed on the request's own ledger row: the last round's
	// (earlier tool rounds are sub-call rows); res.Usage sums every round.
	own Usage
	// promptBytes and chunks estimate usage when the backend never reports it (a
	// client that disconnects is billed for what was generated).
	promptBytes int64
	chunks      int64
	billed      bool
	begun       bool // the stream's start is journaled: finish settles it
	// cacheKey is set when the answer may be stored in the response cache.
	cacheKey string
	cacheTTL time.Duration
	free     bool // served from the cache: billed at zero cost
	// req is the chat request (nil for embeddings): the tools it offered decide
	// whether answers' tool calls are normalised.
	req *Request
	red *redaction // redaction before cloud tiers, nil when the tenant has it off
}

// entry is a ledger entry of this request with the given route and usage.
func (c *call) entry(route string, u Usage) billing.Entry {
	ran, items := c.redacted()
	return billing.Entry{Redaction: ran, Redacted: items,
		Tenant: c.p.Tenant, User: c.p.User, RequestID: c.res.RequestID, ParentRequestID: c.opts.Parent, Route: route,
		Surface: string(c.opts.surface()), Ref: c.opts.Ref, Agent: c.opts.Agent,
		Model: c.res.Model, Backend: c.res.Backend, Tier: c.res.Tier, Tokens: u, Latency: time.Since(c.start),
	}
}

// finish bills the request once. Callers invoke it before the response's last byte,
// so a client that got a complete answer implies a committed ledger row. An answer
// whose usage the backend never reported is billed on an estimate, flagged as such:
// no answer is free.
func (c *call) finish(status int) {
	if c.billed {
		return
	}
	c.billed = true
	if c.own == (Usage{}) && !c.free && (status == http.StatusOK || c.res.Interrupted) && (c.chunks > 0 || c.res.answer != nil) {
		c.own = c.estimate()
		c.res.Usage = c.res.Usage.Plus(c.own)
		c.res.Estimated = true
	}
	if c.s.Billing == nil {
		return
	}
	e := c.entry(c.route, c.own)
	e.Status, e.Estimated, e.Free = status, c.res.Estimated, c.free
	if err := c.s.Billing.Bill(context.WithoutCancel(c.ctx), e); err != nil {
		slog.Error("billing failed", "request_id", e.RequestID, "err", err)
	}
}

// estimate guesses usage from the bytes: about four per token in the prompt, and
// one token per relayed content event (or four bytes of a JSON answer's message).
func (c *call) estimate() Usage {
	completion := c.chunks
	if c.res.answer != nil {
		r := replyOf(c.res.answer)
		n := len(r.Message.Text())
		for _, tc := range r.Message.ToolCalls {
			n += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
		completion = int64(n / 4)
	}
	return Usage{Prompt: max(c.promptBytes/4, 1), Completion: max(completion, 1)}
}

// begin journals the start of a stream about to be committed, so a crash before
// its end still bills it (see Beginner).
func (c *call) begin() {
	b, ok := c.s.Billing.(Beginner)
	if !ok || c.begun || c.billed {
		return
	}
	c.begun = true
	e := c.entry(c.route, Usage{Prompt: max(c.promptBytes/4, 1)})
	e.Status, e.Estimated = apierr.Lookup(apierr.StreamInterrupted).Status, true
	if err := b.Begin(context.WithoutCancel(c.ctx), e); err != nil {
		slog.Error("journaling a stream start failed", "request_id", e.RequestID, "err", err)
	}
}

// buffered relays a non-streamed answer once it is complete, so a failure before it
// can still fall back.
func (c *call) buffered(ctx context.Context, t router.Target, path string, body []byte) error {
	out, err := c.fetch(ctx, t, path, body)
	if err != nil {
		return err
	}
	out = c.withSlug(out)
	if names := c.offered(); names != nil && path == "/chat/completions" {
		out = fixAnswer(out, formatOf(t), names)
	}
	c.own = parseUsage(gjson.GetBytes(out, "usage"))
	c.res.Usage = c.own
	c.res.answer = out
	if c.cacheKey != "" {
		c.s.Cache.Put(context.WithoutCancel(ctx), c.cacheKey, out, c.cacheTTL)
	}
	c.finish(http.StatusOK)
	c.deliver(t, out)
	return nil
}

// fetch posts body and returns the backend's complete JSON answer, or a
// *router.Failure that lets the next tier try.
func (c *call) fetch(ctx context.Context, t router.Target, path string, body []byte) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.s.Response)
	defer cancel()
	resp, err := t.Backend.Post(actx, path, body, false)
	if err != nil {
		return nil, transportFailure(ctx, actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusFailure(resp)
	}
	out, err := readAll(resp.Body, resp.ContentLength, maxResponse)
	if err != nil {
		return nil, transportFailure(ctx, actx, err)
	}
	if !gjson.ValidBytes(out) {
		return nil, &router.Failure{Status: http.StatusBadGateway, Cause: fmt.Errorf("backend %s sent invalid JSON", t.Backend.Name)}
	}
	return c.inbound(out), nil
}

// readAll is io.ReadAll(io.LimitReader(r, limit)) with its buffer sized from the
// response's Content-Length (size, -1 when unknown): one allocation instead of a
// 512-byte start and regrowth.
func readAll(r io.Reader, size, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(int(min(size, limit)) + bytes.MinRead) // MinRead: room for the read that sees EOF
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
}

// deliver hands a complete answer to the sink with the served-by headers.
func (c *call) deliver(t router.Target, out []byte) {
	setServedHeaders(c.sink.Header(), t, c.res.Fallbacks)
	c.sink.Answer(out)
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
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &router.Failure{Status: code, RetryAfter: ra, Healthy: true, Cause: cause}
	case code >= 500:
		return &router.Failure{Status: code, Cause: cause}
	case code == http.StatusNotFound || code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &router.Failure{Status: code, Healthy: true, Cause: cause}
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
	return errorText(b)
}

// errorText is the message of an OpenAI-style error document, at most 300 bytes.
func errorText(b []byte) string {
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
		Prompt:     u.Get("prompt_tokens").Int(),
		Completion: u.Get("completion_tokens").Int(),
		Cached:     u.Get("prompt_tokens_details.cached_tokens").Int(),
	}
}

// timer cancels an attempt when the backend stays silent too long; reset re-arms it.
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
