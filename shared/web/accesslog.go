package web

import (
	"log/slog"
	"net/http"
	"time"
)

// AccessLogMessage is the message of the one log line every request leaves.
const AccessLogMessage = "request"

// accessLog writes the request's one log line: who asked (tenant, user), what
// (method, route pattern), how it ended (status, error code, latency, bytes) and,
// for a model request, who served it (model, backend, tier, fallbacks, tokens,
// stream). It holds ids and counts only: never a token, a prompt or an answer.
// 5xx answers log at warn, everything else at info.
func accessLog(log *slog.Logger, r *http.Request, route string, tr *Trace, rec *Recorder, d time.Duration) {
	level := slog.LevelInfo
	if rec.Status >= 500 {
		level = slog.LevelWarn
	}
	ctx := r.Context()
	if !log.Enabled(ctx, level) {
		return
	}
	status := rec.Status
	if status == 0 {
		status = http.StatusOK // a handler that wrote nothing answered 200
	}
	attrs := make([]slog.Attr, 0, 18)
	attrs = append(attrs,
		slog.String("request_id", tr.RequestID),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", rec.Bytes),
		slog.String("tenant", tr.Tenant),
		slog.String("user", tr.User),
	)
	if tr.Code != "" {
		attrs = append(attrs, slog.String("code", string(tr.Code)))
	}
	if tr.Model != "" {
		attrs = append(attrs,
			slog.String("model", tr.Model),
			slog.String("backend", tr.Backend),
			slog.Int("tier", tr.Tier),
			slog.Int("fallbacks", tr.Fallbacks),
			slog.Int64("prompt_tokens", tr.PromptTokens),
			slog.Int64("completion_tokens", tr.CompletionTokens),
			slog.Bool("stream", tr.Stream),
		)
	}
	log.LogAttrs(ctx, level, AccessLogMessage, attrs...)
}
