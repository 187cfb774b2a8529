package ratelimit_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/ratelimit"
)

const hello = `{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}]}`

func TestGatewayRefusesOverLimit(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{
		AcmeDefaults: "{ratelimit.requests_per_minute: 2, ratelimit.user_tokens_per_minute: 100000}"})
	env.App.Chat.Limiter = ratelimit.NewForTest(t) // ratelimit.New(rdb), patient with a busy machine
	// Effective takes the settings lock, which every request takes before it reads
	// Chat's fields: the assignment above happens before any request reads it.
	if _, err := env.App.Settings.Effective(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	num := func(h string, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("header %s = %q", h, v)
		}
		return n
	}
	for i := range 2 {
		resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
		if resp.StatusCode != 200 || num(ratelimit.HeaderRemainingRequests, resp.Header.Get(ratelimit.HeaderRemainingRequests)) != 1-i {
			t.Fatalf("request %d: status %d, headers %v", i, resp.StatusCode, resp.Header)
		}
	}
	served := env.Sims["sim"].Requests()
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", hello))
	var body struct {
		Error struct {
			Message, Type, Code string
			Param               *string
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || body.Error.Code != "rate_limit_exceeded" || body.Error.Type != "rate_limit_error" ||
		body.Error.Message == "" || body.Error.Param != nil {
		t.Fatalf("third request: %d %+v", resp.StatusCode, body)
	}
	h := resp.Header
	if ra := num("Retry-After", h.Get("Retry-After")); ra < 1 {
		t.Errorf("Retry-After %d", ra)
	}
	if num(ratelimit.HeaderLimitRequests, h.Get(ratelimit.HeaderLimitRequests)) != 2 ||
		num(ratelimit.HeaderRemainingRequests, h.Get(ratelimit.HeaderRemainingRequests)) != 0 ||
		num(ratelimit.HeaderLimitTokens, h.Get(ratelimit.HeaderLimitTokens)) != 100000 ||
		num(ratelimit.HeaderRemainingTokens, h.Get(ratelimit.HeaderRemainingTokens)) >= 100000 ||
		num(ratelimit.HeaderReset, h.Get(ratelimit.HeaderReset)) < 1 {
		t.Errorf("headers %v: want 2 requests, none left, and the tokens of two answers counted", h)
	}
	if got := env.Sims["sim"].Requests(); got != served {
		t.Errorf("the refused request reached the backend (%d -> %d)", served, got)
	}
}
