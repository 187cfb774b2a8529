package respcache_test

import (
	"context"
	"io"
	"testing"

	"spass/local/gatewaytest"
	"spass/shared/respcache"
)

func TestGatewayServesRepeatsFromCache(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.App.Chat.Cache = respcache.NewForTest(t) // respcache.New(rdb), patient with a busy machine
	// Effective takes the settings lock, which every request takes before it reads
	// Chat's fields: the assignment above happens before any request reads it.
	if _, err := env.App.Settings.Effective(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	// No stack tools: answers of the server-side tool loop are not cached.
	settings := `{"cache.enabled": true, "tools.allowlist": []}`
	if resp := gatewaytest.Do(t, env.Request(t, "PUT", "/v1/tenant/config", settings)); resp.StatusCode != 200 {
		t.Fatalf("enabling the cache: %d", resp.StatusCode)
	}
	const body = `{"model":"sim-chat","temperature":0,"messages":[{"role":"user","content":"Cache me"}]}`
	send := func() (string, string) {
		resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/chat/completions", body))
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d: %s %v", resp.StatusCode, b, err)
		}
		return resp.Header.Get("SPASS-Cache"), string(b)
	}
	state, first := send()
	if state != "miss" {
		t.Fatalf("first request: SPASS-Cache %q, want miss", state)
	}
	served := env.Sims["sim"].Requests()
	state, second := send()
	if state != "hit" || second != first {
		t.Errorf("second request: SPASS-Cache %q, body %s; want a hit with the first body %s", state, second, first)
	}
	if got := env.Sims["sim"].Requests(); got != served {
		t.Errorf("a cache hit reached the backend (%d -> %d)", served, got)
	}
}
