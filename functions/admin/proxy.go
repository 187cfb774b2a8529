package admin

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/chat"
	"spass/shared/config"
	"spass/shared/identity"
	"spass/shared/relay"
	"spass/shared/requestid"
	"spass/shared/web"
)

// ProxyPattern is the passthrough's route: any method, any path of a backend
// below it (a subtree pattern, which OpenAPI can describe, unlike {path...}).
const ProxyPattern = "/proxy/{backend}/"

// proxyHeaders are the request headers that reach the backend. Everything else
// stays behind: above all Authorization (the caller's gateway token; the
// backend gets the gateway's own key instead), cookies, SPASS-* and hop-by-hop
// headers.
var proxyHeaders = []string{"Content-Type", "Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Openai-Beta", "Cache-Control"}

// answerHeaders are the backend's response headers that are not relayed:
// hop-by-hop ones, and cookies of a backend that is not the client's to hold.
var answerHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Set-Cookie", "Content-Length"}

// maxUsageScan bounds how much of a JSON answer is kept to read its usage.
const maxUsageScan = 8 << 20

// proxy serves ProxyPattern: the operator's token opens every backend and path;
// a tenant's token only a backend whose passthrough lists the tenant, on the
// paths listed (config.Passthrough), under the tenant's rate limits.
func proxy(a *app.App) http.Handler {
	byName := map[string]*backend.Backend{}
	cfg := map[string]config.Passthrough{}
	for _, b := range a.Router.Backends() {
		byName[b.Name] = b
	}
	for _, b := range a.Config.Backends {
		cfg[b.Name] = b.Passthrough
	}
	serve := web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return passthrough(w, r, a, byName, cfg)
	})
	asOperator := a.Auth.RequireOperator(serve, false, identity.RoleOperator)
	asTenant := a.Auth.Require(serve)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, tenant := a.Auth.Lookup(strings.TrimSpace(tok)); tenant {
			asTenant.ServeHTTP(w, r)
			return
		}
		asOperator.ServeHTTP(w, r)
	})
}

func passthrough(w http.ResponseWriter, r *http.Request, a *app.App, byName map[string]*backend.Backend, cfg map[string]config.Passthrough) error {
	ctx, id := requestid.Claim(r.Context())
	p := auth.From(ctx)
	b := byName[r.PathValue("backend")]
	if b == nil {
		return apierr.P(apierr.NotFound, "backend", "No backend is named "+apierr.Quote(r.PathValue("backend"))+".")
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/proxy/"+url.PathEscape(b.Name))
	tr := web.TraceFrom(ctx)
	if tr != nil {
		tr.Backend = b.Name
	}
	done := func(int64) {}
	if p.Role != identity.RoleOperator {
		// The allowlist is of plain paths: an encoded dot, slash or backslash could
		// mean another path to the backend than the one checked here.
		if l := strings.ToLower(path); strings.Contains(l, "%2e") || strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
			return apierr.P(apierr.InvalidRequest, "path", "Encoded dots and slashes are not allowed in a tenant's passthrough path.")
		}
		if !cfg[b.Name].Allows(p.Tenant, path) {
			return apierr.E(apierr.PermissionDenied, "The passthrough to "+b.Name+" is not open to your tenant on this path; see docs/proxy.md.", nil)
		}
		if p.Role == identity.RoleReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			return apierr.E(apierr.PermissionDenied, "The read-only role may only GET through the passthrough.", nil)
		}
		eff, err := a.Settings.Effective(ctx, p.Tenant)
		if err != nil {
			return err
		}
		if done, err = a.RateLimit.Admit(ctx, p, eff, w.Header()); err != nil {
			return err
		}
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	h := http.Header{}
	for _, k := range proxyHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	start := time.Now()
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(a.Chat.FirstByte, cancel)
	resp, err := b.Send(actx, r.Method, path, false, h, bytes.NewReader(body))
	timer.Stop()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if actx.Err() != nil {
			return apierr.E(apierr.UpstreamTimeout, "", err)
		}
		return apierr.E(apierr.UpstreamUnavailable, "", err)
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		if !containsFold(answerHeaders, k) {
			w.Header()[k] = v
		}
	}
	w.Header().Set(chat.HeaderBackend, b.Name)
	w.WriteHeader(resp.StatusCode)
	var u billing.Tokens
	model := gjson.GetBytes(body, "model").Str
	rc := http.NewResponseController(w)
	if relay.IsSSE(resp.Header) {
		if tr != nil {
			tr.Stream = true
		}
		relay.Events(w, rc, resp.Body, func(data []byte) {
			if t, ok := usageOf(data); ok {
				u = t
			}
			if m := gjson.GetBytes(data, "model").Str; model == "" && m != "" {
				model = m
			}
		})
	} else {
		var kept bytes.Buffer
		var tee io.Writer
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && resp.Header.Get("Content-Encoding") == "" {
			tee = &limitedBuffer{b: &kept, n: maxUsageScan}
		}
		relay.Bytes(w, rc, resp.Body, tee)
		if t, ok := usageOf(kept.Bytes()); ok {
			u = t
			if m := gjson.GetBytes(kept.Bytes(), "model").Str; model == "" {
				model = m
			}
		}
	}
	done(u.Prompt + u.Completion)
	if tr != nil {
		tr.Model, tr.PromptTokens, tr.CompletionTokens = model, u.Prompt, u.Completion
	}
	if a.Billing != nil && p.Tenant != "" && u != (billing.Tokens{}) {
		e := billing.Entry{Tenant: p.Tenant, User: p.User, RequestID: id, Route: "proxy", Surface: string(chat.SurfaceV1),
			Model: model, Backend: b.Name, Tier: b.Tier, Tokens: u, Status: resp.StatusCode, Latency: time.Since(start)}
		if err := a.Billing.Bill(context.WithoutCancel(ctx), e); err != nil {
			slog.Error("billing failed", "request_id", id, "route", "proxy", "err", err)
		}
	}
	return nil
}

// usageOf reads OpenAI-style usage (chat's or the Responses API's token names)
// from a JSON document.
func usageOf(doc []byte) (billing.Tokens, bool) {
	u := gjson.GetBytes(doc, "usage")
	if !u.IsObject() {
		u = gjson.GetBytes(doc, "response.usage") // a Responses API stream's response.completed
	}
	return relay.Usage(u)
}

func containsFold(list []string, k string) bool {
	for _, v := range list {
		if strings.EqualFold(v, k) {
			return true
		}
	}
	return false
}

// limitedBuffer keeps the first n bytes written to it and drops the rest.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
