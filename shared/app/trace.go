package app

import (
	"context"

	"spass/shared/chat"
	"spass/shared/web"
)

// Trace hands what the chat core says about a served request (model, backend,
// tier, fallbacks, usage) to the middleware's metrics and request log line. Every
// surface calls it after Complete or Embed, with whether it answered as a stream.
func Trace(ctx context.Context, res chat.Result, stream bool) {
	tr := web.TraceFrom(ctx)
	if tr == nil {
		return
	}
	tr.Model, tr.Backend, tr.Tier, tr.Fallbacks = res.Model, res.Backend, res.Tier, res.Fallbacks
	tr.PromptTokens, tr.CompletionTokens = res.Usage.Prompt, res.Usage.Completion
	tr.Stream = stream
}
