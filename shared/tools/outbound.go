package tools

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"unicode/utf8"
)

// userAgent identifies the gateway to the endpoints its tools call (MediaWiki's API
// policy asks every client for one).
const userAgent = "SPASS-gateway-tools/1 (server-side LLM tools)"

// maxJSONBytes bounds a configured endpoint's JSON answer.
const maxJSONBytes = 4 << 20

// pinnedClient returns a copy of c (or a fresh client) that never follows redirects:
// the search and Wikipedia tools may contact their configured endpoint and nothing
// else, and a redirect would take them elsewhere.
func pinnedClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// getJSON GETs u from a configured endpoint and decodes its JSON body into v. Its
// errors are tool errors naming the tool, safe to show to the model: no body or
// internal address is echoed.
func getJSON(ctx context.Context, c *http.Client, tool, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Errorf("not_configured", "%s's endpoint is not a valid URL", tool)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.Do(req)
	if err != nil {
		return timeoutOr(ctx, tool, Errorf("upstream_error", "%s's endpoint could not be reached", tool))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Errorf("upstream_error", "%s's endpoint answered HTTP %d", tool, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes+1))
	if err != nil {
		return timeoutOr(ctx, tool, Errorf("upstream_error", "%s's endpoint closed the answer early", tool))
	}
	if len(body) > maxJSONBytes {
		return Errorf("upstream_error", "%s's endpoint answered more than %d bytes", tool, maxJSONBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("upstream_error", "%s's endpoint answered JSON of an unexpected shape", tool)
	}
	return nil
}

// clip cuts s to at most n runes on a rune boundary, marking the cut with "…".
func clip(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k] + "…", true
		}
		i++
	}
	return s, false
}
