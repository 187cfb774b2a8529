package tenant_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
	"spass/shared/store"
)

const pricedYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
models:
  - {id: sim-chat, chain: [{backend: sim}], pricing: {input: 1.0, output: 2.0}}
  - {id: sim-embed, type: embedding, chain: [{backend: sim}], pricing: {input: 0.5}}
`

func startPriced(t *testing.T, opts simulator.Options) *gatewaytest.Env {
	return gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"sim"}, YAML: pricedYAML, SimOptions: opts,
		AcmeDefaults: "{billing.markup_percent: 10}"})
}

func ledger(t *testing.T, env *gatewaytest.Env, tenant string) []store.LedgerRow {
	t.Helper()
	return env.Ledger(t, tenant)
}

func TestLedgerRowPerRequest(t *testing.T) {
	env := startPriced(t, simulator.Options{})
	plain, _ := call(t, env, gatewaytest.AdminToken, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"one two three"}]}`)
	streamed, _ := call(t, env, gatewaytest.AdminToken, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"one two three"}],"stream":true}`)
	call(t, env, gatewaytest.AdminToken, "POST", "/v1/embeddings", `{"model":"sim-embed","input":"a b"}`)
	env.Sims["sim"].SetFault(simulator.Fault500)
	call(t, env, gatewaytest.AdminToken, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"x"}]}`)

	rows := ledger(t, env, "acme")
	if len(rows) != 4 {
		t.Fatalf("%d ledger rows, want 4: %+v", len(rows), rows)
	}
	p, s, e, f := rows[0], rows[1], rows[2], rows[3]
	if p.RequestID != plain.Header.Get("SPASS-Request-Id") || s.RequestID != streamed.Header.Get("SPASS-Request-Id") {
		t.Errorf("request ids %s %s", p.RequestID, s.RequestID)
	}
	if p.UserID != "alice" || p.Route != "chat" || p.Backend != "sim" || p.Tier != 1 || p.Status != 200 || p.Estimated {
		t.Errorf("plain row %+v", p)
	}
	// The stream's usage came from the backend even though the client did not ask.
	if s.PromptTokens != p.PromptTokens || s.CompletionTokens != p.CompletionTokens || s.CompletionTokens == 0 {
		t.Errorf("streamed row %+v vs plain %+v", s, p)
	}
	// (prompt*1 + completion*2) USD per million, +10 %: in nano-USD, tokens*1e3*price*1.1.
	wantUSD := int64(float64(p.PromptTokens*1000+p.CompletionTokens*2000) * 1.1)
	if p.CostNanoUSD != wantUSD || p.CostNanoEUR == 0 || p.CostNanoEUR >= p.CostNanoUSD {
		t.Errorf("cost %d nUSD %d nEUR, want %d nUSD", p.CostNanoUSD, p.CostNanoEUR, wantUSD)
	}
	if e.Route != "embeddings" || e.PromptTokens == 0 || e.CostNanoUSD == 0 {
		t.Errorf("embeddings row %+v", e)
	}
	if f.Status != 502 || f.CostNanoUSD != 0 {
		t.Errorf("failed row %+v", f)
	}
	if len(ledger(t, env, "globex")) != 0 {
		t.Error("acme's rows visible to globex")
	}
}

func TestDisconnectedStreamIsBilledForWhatWasGenerated(t *testing.T) {
	env := startPriced(t, simulator.Options{TokenDelay: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	body := `{"model":"sim-chat","messages":[{"role":"user","content":"` + strings.Repeat("w ", 100) + `"}],"stream":true}`
	req := env.Request(t, "POST", "/v1/chat/completions", body).WithContext(ctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	for events := 0; events < 3; {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			events++
		}
	}
	cancel()
	resp.Body.Close()
	var rows []store.LedgerRow
	for deadline := time.Now().Add(10 * time.Second); len(rows) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rows = ledger(t, env, "acme")
	}
	if len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Status != 499 || !r.Estimated || r.CompletionTokens < 2 || r.CompletionTokens > 100 || r.CostNanoUSD == 0 {
		t.Fatalf("disconnected row %+v", r)
	}
}

func TestUsageAPIEqualsLedgerAfterRollups(t *testing.T) {
	env := startPriced(t, simulator.Options{})
	for i := 0; i < 5; i++ {
		call(t, env, gatewaytest.AdminToken, "POST", "/v1/chat/completions", `{"model":"sim-chat","messages":[{"role":"user","content":"a b c"}]}`)
		call(t, env, gatewaytest.OtherToken, "POST", "/v1/embeddings", `{"model":"sim-embed","input":"x"}`)
	}
	usage := func(token, query string) map[string]any {
		resp, b := call(t, env, token, "GET", "/v1/billing/usage?"+query, "")
		if resp.StatusCode != 200 {
			t.Fatalf("usage %d %s", resp.StatusCode, b)
		}
		var out struct {
			Total map[string]any `json:"total"`
			Data  []map[string]any
		}
		json.Unmarshal(b, &out)
		out.Total["buckets"] = len(out.Data)
		return out.Total
	}
	var sum store.LedgerRow
	for _, r := range ledger(t, env, "acme") {
		sum.PromptTokens += r.PromptTokens
		sum.CompletionTokens += r.CompletionTokens
		sum.CostNanoUSD += r.CostNanoUSD
	}
	before := usage(gatewaytest.AdminToken, "bucket=hour&group_by=model")
	for i := 0; i < 2; i++ {
		for _, b := range []string{"hour", "day"} {
			if _, err := env.App.Store.Rollup(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
	}
	after := usage(gatewaytest.AdminToken, "bucket=hour&group_by=model")
	day := usage(gatewaytest.AdminToken, "bucket=day&group_by=user")
	for _, got := range []map[string]any{before, after, day} {
		if got["requests"] != 5.0 || got["prompt_tokens"] != float64(sum.PromptTokens) ||
			got["completion_tokens"] != float64(sum.CompletionTokens) || got["cost_usd_nano"] != float64(sum.CostNanoUSD) {
			t.Errorf("usage %v, ledger sum %+v", got, sum)
		}
	}
	if other := usage(gatewaytest.OtherToken, ""); other["requests"] != 5.0 || other["prompt_tokens"] == before["prompt_tokens"] {
		t.Errorf("globex usage %v must hold only its own embeddings", other)
	}
	for _, q := range []string{"bucket=week", "group_by=tenant", "from=yesterday", "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		if resp, b := call(t, env, gatewaytest.AdminToken, "GET", "/v1/billing/usage?"+q, ""); resp.StatusCode != 400 || !strings.Contains(string(b), "invalid_query") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, b)
		}
	}
}
