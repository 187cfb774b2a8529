package router_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// listed returns the ids of GET /v1/models for token.
func listed(t *testing.T, e *gatewaytest.Env, token string) []string {
	t.Helper()
	req := e.Request(t, "GET", "/v1/models", "")
	req.Header.Set("Authorization", "Bearer "+token)
	resp := gatewaytest.Do(t, req)
	var body struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range body.Data {
		ids = append(ids, m.ID)
	}
	return ids
}

// eventually polls cond until it holds; the deadline is generous, the interval
// of discovery in the test short.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDiscoveredModelsFollowTheBackend(t *testing.T) {
	yaml := `
backends:
  - {name: live, kind: simulator, base_url: "{{live}}", discover: true}
models:
  - {id: pinned, chain: [{backend: live, model: sim-chat}]}
`
	e := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"live"}, YAML: yaml,
		SimOptions:   simulator.Options{Models: []string{"sim-chat"}},
		AcmeDefaults: `{models.blacklist: [secret-model]}`,
		Routing:      "routing: {first_byte_timeout: 2s, response_timeout: 2s, discover_interval: 50ms}\n"})
	if got := listed(t, e, gatewaytest.AdminToken); !slices.Equal(got, []string{"pinned", "sim-chat"}) {
		t.Fatalf("at start /v1/models lists %v", got)
	}

	// A model pulled into the backend at run time (the simulator's control route).
	resp, err := http.Post(e.SimURLs["live"]+"/sim/models", "application/json", strings.NewReader(`{"id":"new-model"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("add model: %v %v", resp, err)
	}
	e.Sims["live"].AddModel("secret-model")
	eventually(t, "new-model in /v1/models", func() bool {
		return slices.Contains(listed(t, e, gatewaytest.AdminToken), "new-model")
	})
	if got := listed(t, e, gatewaytest.AdminToken); slices.Contains(got, "secret-model") {
		t.Errorf("acme's blacklist lets secret-model through: %v", got)
	}
	if got := listed(t, e, gatewaytest.OtherToken); !slices.Contains(got, "secret-model") {
		t.Errorf("globex, without a blacklist, does not see secret-model: %v", got)
	}
	r := gatewaytest.Do(t, e.Request(t, "POST", "/v1/chat/completions", `{"model":"new-model","messages":[{"role":"user","content":"hi"}]}`))
	if b, _ := io.ReadAll(r.Body); r.StatusCode != http.StatusOK {
		t.Fatalf("chat with the discovered model: %d %s", r.StatusCode, b)
	}

	// The backend disappears: its listed models become unavailable, the configured one stays.
	e.Sims["live"].SetFault(simulator.FaultDown)
	eventually(t, "new-model gone from /v1/models", func() bool {
		return !slices.Contains(listed(t, e, gatewaytest.AdminToken), "new-model")
	})
	if got := listed(t, e, gatewaytest.AdminToken); !slices.Equal(got, []string{"pinned"}) {
		t.Errorf("with the backend down /v1/models lists %v, want the configured model only", got)
	}
	e.Sims["live"].SetFault(simulator.FaultNone)
	eventually(t, "new-model back", func() bool {
		return slices.Contains(listed(t, e, gatewaytest.AdminToken), "new-model")
	})
}
