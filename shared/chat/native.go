package chat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/identity"
	"spass/shared/redact"
	"spass/shared/router"
)

// Native is a request in an API of its own that some backends serve themselves
// (OpenAI's Responses API: vLLM, OpenAI) and the gateway translates for the rest.
// A target of the chain with Cap gets Body at Path as it is (model id aside;
// redacted by Redact for a cloud tier when the tenant asks), and its answer
// reaches the sink unchanged (placeholders restored): a JSON document, or the
// stream's events one by one. Served tells the sink which kind of answer it
// receives.
type Native struct {
	Cap  backend.Capability
	Path string
	Body []byte
	// Redact redacts Body for a cloud attempt when the tenant asks for
	// redaction (redact.Redactor.ResponsesBody for the Responses API); the
	// answer is restored as a chat answer is (a JSON document whole, stream
	// events by redact.Stream). Nil sends such attempts in the chat form.
	Redact func(r *redact.Redactor, body []byte) ([]byte, error)
	// Served is set before the sink sees a native answer; false means the sink
	// receives the chat form of req (JSON answer or chunks).
	Served bool
}

// Respond runs a surface's request that has a chat form (req) and a native form
// (n): through the same pipeline as Complete (policy, rate limits, cache, the
// context-window guard, stack tools, routing with fallback, redaction before
// cloud tiers, billing), each target of the model's chain serving whichever
// form it can. A request offered stack tools always runs as chat, since the
// gateway's tool loop runs the tools. A model whose chain has no target for
// either form gets 501 capability_not_supported. The guard reads the chat form,
// which holds the whole conversation (history included) as the native form does.
//
// Redaction before cloud tiers covers both forms: the chat form as in
// Complete, the native form through n.Redact (a target that serves the native
// form gets the chat form instead when n has none).
func (s *Service) Respond(ctx context.Context, p identity.Principal, req *Request, n *Native, opts Options, sink Sink) (Result, error) {
	if err := req.prepend(opts.History); err != nil {
		return Result{Model: req.Model}, err
	}
	if m := s.Router.Model(req.Model); m != nil && !m.Serves("chat") {
		return Result{Model: req.Model}, apierr.P(apierr.CapabilityMissing, "model",
			"The model "+apierr.Quote(req.Model)+" is not a chat model; GET /v1/info lists the models that answer /v1/responses.")
	}
	return s.serve(ctx, p, &opts, "responses", req.Model, "chat", int64(len(req.Raw)), sink, cacheable(req),
		func(ctx context.Context, c *call, m *router.Model) error {
			m, err := c.admit(m, req, "input")
			if err != nil {
				return err
			}
			if stack := s.stackTools(c, req); stack != nil && m.CallsTools() {
				return c.toolLoop(ctx, m, req, stack)
			}
			if !slices.ContainsFunc(m.Targets, func(t router.Target) bool { return t.Backend.Can(n.Cap) || canAll(t.Backend, req.Needs) }) {
				return apierr.E(apierr.CapabilityMissing, "No backend serving "+m.ID+" answers "+string(n.Cap)+" or its chat form.", nil)
			}
			return c.routed(ctx, m, nil, func(ctx context.Context, t router.Target) error {
				switch {
				case t.Backend.Can(n.Cap) && (n.Redact != nil || !c.redacts(t)):
					return c.native(ctx, t, n, req.Stream)
				case !canAll(t.Backend, req.Needs):
					return &router.Failure{Status: http.StatusNotImplemented, Healthy: true, Cause: errors.New("backend " + t.Backend.Name + " lacks a capability the request needs")}
				}
				return c.sendChat(ctx, t, req)
			})
		})
}

// canAll reports whether b has every capability of needs.
func canAll(b *backend.Backend, needs []backend.Capability) bool {
	for _, c := range needs {
		if !b.Can(c) {
			return false
		}
	}
	return true
}

// native sends n to a target that serves it and delivers the answer as it came.
func (c *call) native(ctx context.Context, t router.Target, n *Native, stream bool) error {
	body, err := upstreamModel(n.Body, c.req.Model, t.Model) // the body names the model asked for, not an overflow model
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	if body, err = c.redactBody(t, body, n.Redact); err != nil {
		return err
	}
	if stream {
		return c.nativeStream(ctx, t, n, body)
	}
	out, err := c.fetch(ctx, t, n.Path, body)
	if err != nil {
		return err
	}
	c.own = nativeUsage(gjson.GetBytes(out, "usage"))
	c.res.Usage = c.own
	c.chunks = int64(len(gjson.GetBytes(out, "output").Raw)/16) + 1 // the estimate, if usage is missing
	n.Served = true
	c.finish(http.StatusOK)
	c.deliver(t, out)
	return nil
}

// nativeStream relays a native event stream. As for chat streams, a failure
// before the first event falls back; after it, the stream ends with an error
// event. The stream ends at its terminal event (whose usage is billed).
func (c *call) nativeStream(ctx context.Context, t router.Target, n *Native, body []byte) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	tm := newTimer(c.s.FirstByte, cancel)
	defer tm.stop()
	resp, err := t.Backend.Post(actx, n.Path, body, true)
	if err != nil {
		return streamFailure(ctx, tm, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusFailure(resp)
	}
	rd := newEventReader(resp.Body)
	defer rd.release()
	data, err := rd.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("stream closed before the first event")
		}
		return streamFailure(ctx, tm, err)
	}
	if !gjson.ValidBytes(data) {
		return &router.Failure{Status: http.StatusBadGateway, Cause: errors.New("the stream's first event is not valid JSON")}
	}
	if typ := gjson.GetBytes(data, "type").Str; typ == "error" || gjson.GetBytes(data, "error.message").Exists() && typ == "" {
		return &router.Failure{Status: http.StatusBadGateway, Cause: errors.New("stream began with an error: " + errorText(data))}
	}
	tm.reset()
	n.Served = true
	out := c.commit(t, false)
	defer out.close()
	rd.out = out.w
	for {
		if !gjson.ValidBytes(data) {
			return c.endWithError(out, apierr.E(apierr.StreamInvalidEvent, "", nil))
		}
		typ := gjson.GetBytes(data, "type").Str
		switch typ {
		case "response.output_text.delta", "response.function_call_arguments.delta", "response.reasoning_text.delta":
			c.chunks++
		case "response.completed", "response.incomplete", "response.failed":
			c.own = nativeUsage(gjson.GetBytes(data, "response.usage"))
			c.res.Usage = c.own
		}
		if err := out.put(data); err != nil {
			c.res.Interrupted = true
			c.finish(apierr.Lookup(apierr.ClientClosed).Status)
			return nil
		}
		switch typ {
		case "response.completed", "response.incomplete":
			c.settle(out, http.StatusOK)
			out.flush()
			return nil
		case "response.failed", "error":
			c.res.Interrupted = true
			c.settle(out, http.StatusBadGateway)
			out.flush()
			return nil
		}
		data, err = rd.next()
		if err == nil && bytes.Equal(data, doneMarker) {
			err = errors.New("the stream ended before its terminal event")
		}
		if err != nil {
			if ctx.Err() != nil {
				c.res.Interrupted = true
				c.finish(apierr.Lookup(apierr.ClientClosed).Status)
				return nil
			}
			code := apierr.StreamInterrupted
			if tm.expired.Load() {
				code = apierr.UpstreamTimeout
			}
			return c.endWithError(out, apierr.E(code, "", err))
		}
		tm.reset()
	}
}

// nativeUsage reads a Responses API usage object.
func nativeUsage(u gjson.Result) Usage {
	if !u.IsObject() {
		return Usage{}
	}
	return Usage{
		Prompt:     u.Get("input_tokens").Int(),
		Completion: u.Get("output_tokens").Int(),
		Cached:     u.Get("input_tokens_details.cached_tokens").Int(),
	}
}
