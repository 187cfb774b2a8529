package simulator

import (
	"net/http"
	"slices"
	"sync"
	"testing"
)

func TestControlEndpoint(t *testing.T) {
	sim, ts := start(t, Options{APIKey: "secret", Fault: FaultDown})

	// Control routes ignore both the fault and the API key.
	got := decode[stats](t, post(t, ts, "/sim/fault", object{"fault": "429"}), http.StatusOK)
	if got.Fault != Fault429 || sim.Fault() != Fault429 {
		t.Fatalf("after POST /sim/fault 429: stats %+v, Fault() %q", got, sim.Fault())
	}
	resp := post(t, ts, "/v1/chat/completions", object{"model": "sim-chat", "messages": userMessage("hi")})
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("chat under fault 429: status %d", resp.StatusCode)
	}
	got = decode[stats](t, get(t, ts, "/sim/stats"), http.StatusOK)
	if want := (stats{Requests: 1, Cancelled: 0, Fault: Fault429}); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}

	for _, name := range []string{"none", ""} {
		sim.SetFault(Fault500)
		if got := decode[stats](t, post(t, ts, "/sim/fault", object{"fault": name}), http.StatusOK); got.Fault != FaultNone {
			t.Errorf("fault %q: stats %+v, want no fault", name, got)
		}
	}
	checkAPIError(t, post(t, ts, "/sim/fault", object{"fault": "explode"}), http.StatusBadRequest, "invalid_value")
	checkAPIError(t, post(t, ts, "/sim/fault", object{}), http.StatusBadRequest, "missing_required_parameter")
	checkAPIError(t, post(t, ts, "/sim/fault", "fault=down"), http.StatusBadRequest, "")
	if sim.Fault() != FaultNone {
		t.Errorf("a rejected request changed the fault to %q", sim.Fault())
	}
}

func TestAPIKey(t *testing.T) {
	_, ts := start(t, Options{APIKey: "secret"})
	chatReq := object{"model": "sim-chat", "messages": userMessage("hi")}
	for _, auth := range []string{"", "Bearer wrong", "secret", "Basic secret", "Bearer  secret"} {
		checkAPIError(t, post(t, ts, "/v1/chat/completions", chatReq, "Authorization", auth),
			http.StatusUnauthorized, "invalid_api_key")
	}
	checkAPIError(t, post(t, ts, "/v1/embeddings", object{"model": "sim-embed", "input": "x"}),
		http.StatusUnauthorized, "invalid_api_key")
	checkAPIError(t, get(t, ts, "/v1/models"), http.StatusUnauthorized, "invalid_api_key")

	decode[chatCompletion](t, post(t, ts, "/v1/chat/completions", chatReq, "Authorization", "Bearer secret"), http.StatusOK)
	decode[chatCompletion](t, post(t, ts, "/v1/chat/completions", chatReq, "Authorization", "bearer secret"), http.StatusOK)
	decode[modelList](t, get(t, ts, "/v1/models", "Authorization", "Bearer secret"), http.StatusOK)
	decode[object](t, get(t, ts, "/health"), http.StatusOK)
	decode[stats](t, get(t, ts, "/sim/stats"), http.StatusOK)
}

func TestDefaultModels(t *testing.T) {
	_, ts := start(t, Options{})
	list := decode[modelList](t, get(t, ts, "/v1/models"), http.StatusOK)
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
		if m.Created <= 0 {
			t.Errorf("model %s: created = %d", m.ID, m.Created)
		}
	}
	if !slices.Equal(ids, DefaultModels()) {
		t.Errorf("models %v, want %v", ids, DefaultModels())
	}
}

func TestLastRequestAndCounting(t *testing.T) {
	sim, ts := start(t, Options{})
	if sim.LastRequest() != nil || sim.Requests() != 0 {
		t.Fatal("a new simulator has already seen a request")
	}
	body := `{"model":"sim-chat","messages":[{"role":"user","content":"exact bytes"}],"extra":1}`
	decode[chatCompletion](t, post(t, ts, "/v1/chat/completions", body), http.StatusOK)
	if got := string(sim.LastRequest()); got != body {
		t.Errorf("LastRequest() = %s, want %s", got, body)
	}
	// Health, listing and control requests are not inference.
	get(t, ts, "/health").Body.Close()
	get(t, ts, "/v1/models").Body.Close()
	get(t, ts, "/sim/stats").Body.Close()
	// Rejected requests are.
	post(t, ts, "/v1/embeddings", `not json`).Body.Close()
	if sim.Requests() != 2 || string(sim.LastRequest()) != "not json" {
		t.Errorf("Requests() = %d, LastRequest() = %q; want 2 and the rejected body", sim.Requests(), sim.LastRequest())
	}
}

func TestUnknownRoute(t *testing.T) {
	_, ts := start(t, Options{})
	checkAPIError(t, get(t, ts, "/v1/chat/completions"), http.StatusNotFound, "")
	checkAPIError(t, post(t, ts, "/v1/assistants", object{}), http.StatusNotFound, "")
}

func TestConcurrentUse(t *testing.T) {
	sim, ts := start(t, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%4 == 0 {
				sim.SetFault(FaultNone)
			}
			resp, err := doPost(ts, "/v1/chat/completions", object{"model": "sim-chat", "stream": i%2 == 0, "messages": userMessage("hi")})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			_ = sim.LastRequest()
		})
	}
	wg.Wait()
	if sim.Requests() != 8 {
		t.Errorf("Requests() = %d, want 8", sim.Requests())
	}
}

func TestParseFault(t *testing.T) {
	for _, s := range []string{"", "none", "down", "500", "429", "hang", "cut"} {
		if _, err := ParseFault(s); err != nil {
			t.Errorf("ParseFault(%q): %v", s, err)
		}
	}
	if _, err := ParseFault("503"); err == nil {
		t.Error("ParseFault accepted an unknown fault")
	}
}
