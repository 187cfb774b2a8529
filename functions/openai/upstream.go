package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/relay"
	"spass/shared/requestid"
	"spass/shared/router"
	"spass/shared/tenantcfg"
)

// maxUpstreamAnswer bounds a buffered answer of the audio, moderation and rerank
// routes (a transcript, scores): far above any real one.
const maxUpstreamAnswer = 16 << 20

// relayed is one request of the routes that pass a body through to a backend
// with a capability of its own (audio in, audio out, moderation, rerank): the
// same policy, rate limits, tier chain with fallback, ledger row and trace as a
// chat request, without the chat core's message handling.
type relayed struct {
	a     *app.App
	p     identity.Principal
	eff   *tenantcfg.Effective
	m     *router.Model
	route string // the ledger's route
	need  backend.Capability
	start time.Time
	res   chat.Result
	done  func(tokens int64)
	// stream is set once the answer is relayed as it comes (trace only).
	stream bool
}

// openRelayed resolves the model and admits the request against the tenant's
// policy and rate limits. A request it refuses is finished here (billed at
// zero); else the caller must call finish.
func openRelayed(ctx context.Context, a *app.App, h http.Header, route, model string, need backend.Capability) (*relayed, context.Context, error) {
	ctx, id := requestid.Claim(ctx)
	rl := &relayed{a: a, p: auth.From(ctx), route: route, need: need, start: time.Now(),
		res: chat.Result{RequestID: id, Model: model}, done: func(int64) {}}
	if err := rl.admit(ctx, h, model); err != nil {
		rl.finish(ctx, err, billing.Tokens{}, false)
		return nil, ctx, err
	}
	return rl, ctx, nil
}

// admit is openRelayed's checks, in the order a chat request meets them.
func (rl *relayed) admit(ctx context.Context, h http.Header, model string) error {
	if model == "" {
		return apierr.P(apierr.MissingParameter, "model", "You must provide a model.")
	}
	var err error
	if rl.eff, err = rl.a.Settings.Effective(ctx, rl.p.Tenant); err != nil {
		return err
	}
	if rl.m = rl.a.Router.Model(model); rl.m == nil {
		rl.res.Model = ""
		return chat.ModelNotFound(model)
	}
	if !rl.eff.ModelAllowed(model) {
		return apierr.P(apierr.ModelNotAllowed, "model", "Your tenant may not use the model "+apierr.Quote(model)+".")
	}
	if rl.a.RateLimit != nil {
		done, err := rl.a.RateLimit.Admit(ctx, rl.p, rl.eff, h)
		if err != nil {
			return err
		}
		rl.done = done
	}
	return nil
}

// run tries the model's chain for backends with the route's capability: 501
// capability_not_supported when none has it.
func (rl *relayed) run(ctx context.Context, h http.Header, try func(context.Context, router.Target) error) error {
	served, err := rl.a.Router.Do(ctx, rl.m, []backend.Capability{rl.need}, router.Filter{}, func(ctx context.Context, t router.Target, fallbacks int) error {
		rl.res.Backend, rl.res.Tier, rl.res.Fallbacks = t.Backend.Name, t.Tier, fallbacks
		return try(ctx, t)
	})
	rl.res.Fallbacks = served.Fallbacks
	if err != nil && served.Target.Backend == nil {
		rl.res.Backend, rl.res.Tier = "", 0
	}
	h.Set(chat.HeaderFallbacks, strconv.Itoa(served.Fallbacks))
	return err
}

// served sets the served-by headers of an answer from t.
func (rl *relayed) served(h http.Header, t router.Target) {
	h.Set(chat.HeaderBackend, t.Backend.Name)
	h.Set(chat.HeaderTier, "T"+strconv.Itoa(t.Tier))
	h.Set(chat.HeaderFallbacks, strconv.Itoa(rl.res.Fallbacks))
}

// finish bills the request once (tokens as the backend reported them, else the
// estimate, flagged) and hands the result to the trace. err is the request's
// outcome; a request refused before a backend was tried is billed too, at zero,
// as every route's refusals are.
func (rl *relayed) finish(ctx context.Context, err error, u billing.Tokens, estimated bool) {
	status := http.StatusOK
	if err != nil {
		status = apierr.From(err).Status()
		if errors.Is(err, context.Canceled) {
			status = apierr.Lookup(apierr.ClientClosed).Status
		}
	}
	rl.res.Usage, rl.res.Estimated = u, estimated
	rl.done(u.Prompt + u.Completion)
	app.Trace(ctx, rl.res, rl.stream)
	if rl.a.Billing == nil || rl.res.Model == "" {
		return
	}
	e := billing.Entry{Tenant: rl.p.Tenant, User: rl.p.User, RequestID: rl.res.RequestID, Route: rl.route,
		Surface: string(chat.SurfaceV1), Model: rl.res.Model, Backend: rl.res.Backend, Tier: rl.res.Tier,
		Tokens: u, Status: status, Latency: time.Since(rl.start), Estimated: estimated}
	if err := rl.a.Billing.Bill(context.WithoutCancel(ctx), e); err != nil {
		slog.Error("billing failed", "request_id", e.RequestID, "route", e.Route, "err", err)
	}
}

// send makes one upstream attempt and returns a 200 response, or the failure
// that lets the next tier try (or ends the request). The attempt must answer
// within wait: the whole answer when whole is set (a buffered route), else the
// headers (a relayed stream, whose body the caller then reads under ctx alone).
func send(ctx context.Context, t router.Target, wait time.Duration, whole bool, path string, api bool, h http.Header, body []byte) (*http.Response, context.CancelFunc, error) {
	actx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(wait, cancel)
	resp, err := t.Backend.Send(actx, http.MethodPost, path, api, h, bytes.NewReader(body))
	if err != nil {
		timer.Stop()
		cancel()
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, nil, &router.Failure{Timeout: true, Cause: err}
		}
		return nil, nil, chat.TransportFailure(ctx, actx, err)
	}
	if resp.StatusCode != http.StatusOK {
		timer.Stop()
		defer cancel()
		defer resp.Body.Close()
		return nil, nil, chat.StatusFailure(resp)
	}
	if !whole {
		timer.Stop()
	}
	return resp, func() { timer.Stop(); cancel() }, nil
}

// relayStream posts body to t and relays the answer to w as it comes (see
// relay.Stream) under the served-by headers and the backend's Content-Type;
// see gets the data of each server-sent event.
func (rl *relayed) relayStream(ctx context.Context, w http.ResponseWriter, t router.Target, path string, h http.Header, body []byte, see func(data []byte)) error {
	resp, cancel, err := send(ctx, t, rl.a.Chat.FirstByte, false, path, true, h, body)
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	rl.served(w.Header(), t)
	copyHeader(w.Header(), resp.Header, "Content-Type")
	w.WriteHeader(http.StatusOK)
	rl.stream = true
	relay.Stream(w, resp, see)
	return nil
}

// fetchJSON posts a JSON body and returns the complete JSON answer.
func (rl *relayed) fetchJSON(ctx context.Context, t router.Target, path string, api bool, body []byte) ([]byte, error) {
	h := http.Header{"Content-Type": {"application/json"}}
	resp, cancel, err := send(ctx, t, rl.a.Chat.Response, true, path, api, h, body)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamAnswer))
	if err != nil {
		return nil, chat.TransportFailure(ctx, ctx, err)
	}
	if !gjson.ValidBytes(out) {
		return nil, &router.Failure{Status: http.StatusBadGateway, Cause: errors.New("backend " + t.Backend.Name + " sent invalid JSON")}
	}
	return out, nil
}

// usageOf reads OpenAI-style usage from a JSON document (see relay.Usage), or
// total_tokens alone (rerank, embeddings) as prompt tokens.
func usageOf(u gjson.Result) (billing.Tokens, bool) {
	if !u.IsObject() {
		return billing.Tokens{}, false
	}
	t, _ := relay.Usage(u)
	if t.Prompt == 0 && t.Completion == 0 {
		t.Prompt = u.Get("total_tokens").Int()
	}
	return t, t.Prompt > 0 || t.Completion > 0
}
