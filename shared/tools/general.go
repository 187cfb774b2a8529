package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"spass/shared/config"
	"spass/shared/identity"
)

// General returns the general stack tools in a stable order: datetime, calculator,
// unit_convert, web_search, web_fetch, wikipedia, list_models.
//
// web_search and wikipedia are left out when their endpoint is not configured: a
// model offered a tool that can only answer "not configured" calls it anyway and
// wastes a round, and GET /v1/tools should list what works. (Their constructors still
// answer not_configured for an empty endpoint, for callers that build them directly.)
//
// Every tool runs under cfg.Timeout, so a hung endpoint cannot hold a tool loop round
// even when the caller set no deadline; web_fetch also bounds its own request with it.
func General(cfg config.Tools, client *http.Client, listModels func(context.Context, identity.Principal) (any, error)) []Tool {
	out := []Tool{Datetime(), Calculator(), UnitConvert()}
	if cfg.WebSearchURL != "" {
		out = append(out, WebSearch(cfg.WebSearchURL, client))
	}
	out = append(out, WebFetch(FetchConfig{
		AllowHosts: cfg.FetchAllowHosts,
		MaxBytes:   cfg.FetchMaxBytes,
		Timeout:    cfg.Timeout.Duration,
		Client:     client,
	}))
	if cfg.WikipediaURL != "" {
		out = append(out, Wikipedia(cfg.WikipediaURL, client))
	}
	out = append(out, ListModels(listModels))
	for i := range out {
		out[i] = withTimeout(out[i], cfg.Timeout.Duration)
	}
	return out
}

// withTimeout bounds t's Execute by d; zero leaves it unbounded.
func withTimeout(t Tool, d time.Duration) Tool {
	if d <= 0 {
		return t
	}
	run := t.Execute
	t.Execute = func(ctx context.Context, p Call, args json.RawMessage) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return run(ctx, p, args)
	}
	return t
}

// decodeArgs unmarshals schema-validated arguments. It can still fail when Execute
// is called without going through Registry.Run, so the failure is a tool error.
func decodeArgs(args json.RawMessage, v any) error {
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	if err := json.Unmarshal(args, v); err != nil {
		return Errorf("invalid_arguments", "arguments do not match the schema: %v", err)
	}
	return nil
}

// timeoutOr returns a tool_timeout error when ctx's deadline has passed, so the model
// learns the tool ran out of time rather than that it failed; otherwise err.
func timeoutOr(ctx context.Context, name string, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return Errorf("tool_timeout", "%s did not finish in time", name)
	}
	return err
}
