package openai_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/openaispec"
	"spass/local/simulator"
)

// responsesYAML serves sim-chat from a Chat-Completions-only backend and
// native-chat from a backend of a kind that serves /v1/responses itself (vLLM,
// played by a simulator).
const responsesYAML = `
backends:
  - {name: chatonly, kind: simulator, base_url: "{{chatonly}}"}
  - {name: native, kind: vllm, base_url: "{{native}}"}
  - {name: cut, kind: simulator, base_url: "{{cut}}"}
  - {name: cutnative, kind: vllm, base_url: "{{cut}}"}
  - {name: downnative, kind: vllm, base_url: "{{down}}"}
models:
  - {id: sim-chat, chain: [{backend: chatonly}]}
  - {id: native-chat, chain: [{backend: native, model: sim-chat}]}
  - {id: sim-embed, type: embedding, chain: [{backend: chatonly}]}
  - {id: sim-vision, vision: true, chain: [{backend: chatonly}]}
  - {id: cut-chat, chain: [{backend: cut, model: sim-chat}]}
  - {id: cut-native, chain: [{backend: cutnative, model: sim-chat}]}
  - {id: mixed, chain: [{backend: downnative, model: sim-chat}, {backend: chatonly, model: sim-chat}]}
`

func startResponses(t *testing.T) *gatewaytest.Env {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"chatonly", "native", "cut", "down"}, YAML: responsesYAML})
	env.Sims["cut"].SetFault(simulator.FaultCut)
	env.Sims["down"].SetFault(simulator.Fault500)
	return env
}

// respEvent is one named SSE event of a Responses stream.
type respEvent struct {
	Name string
	Data string
}

func respEvents(t *testing.T, resp *http.Response) []respEvent {
	t.Helper()
	var out []respEvent
	var name string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, respEvent{name, v})
		}
	}
	return out
}

func TestResponsesTranslatedForAChatBackend(t *testing.T) {
	env := startResponses(t)
	spec := openaispec.ForTest(t)
	post := func(t *testing.T, body string) map[string]any {
		t.Helper()
		req := env.Request(t, "POST", "/v1/responses", body)
		req.Header.Set("SPASS-Tools", "none")
		resp := gatewaytest.Do(t, req)
		b := readAll(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		if err := spec.Validate("Response", []byte(b)); err != nil {
			t.Errorf("Response: %v\n%s", err, b)
		}
		var out map[string]any
		json.Unmarshal([]byte(b), &out)
		return out
	}
	r := post(t, `{"model":"sim-chat","input":"Hello there","instructions":"Be brief.","max_output_tokens":50}`)
	if text := outputText(r); text != "Hello! You said: Hello there" {
		t.Errorf("text %q", text)
	}
	if u := r["usage"].(map[string]any); u["input_tokens"].(float64) < 1 || u["total_tokens"].(float64) != u["input_tokens"].(float64)+u["output_tokens"].(float64) {
		t.Errorf("usage %v", u)
	}
	if !strings.Contains(string(env.Sims["chatonly"].LastRequest()), `"messages":[{"role":"system","content":"Be brief."}`) {
		t.Errorf("chat form %s", env.Sims["chatonly"].LastRequest())
	}

	// A function tool: the call, then its output continues the stored conversation.
	tools := `"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]`
	r = post(t, `{"model":"sim-chat","input":"weather in Paris? get_weather",`+tools+`}`)
	call := r["output"].([]any)[0].(map[string]any)
	if call["type"] != "function_call" || call["name"] != "get_weather" || call["call_id"] == "" {
		t.Fatalf("output %v", r["output"])
	}
	r = post(t, `{"model":"sim-chat","previous_response_id":"`+r["id"].(string)+`",`+tools+`,
		"input":[{"type":"function_call_output","call_id":"`+call["call_id"].(string)+`","output":"sunny, 21 C"}]}`)
	if text := outputText(r); text != "The result is: sunny, 21 C" {
		t.Errorf("after the tool output: %q", text)
	}
	sent := string(env.Sims["chatonly"].LastRequest())
	for _, want := range []string{`"content":"weather in Paris? get_weather"`, `"tool_calls":[{"id":"` + call["call_id"].(string), `"role":"tool"`} {
		if !strings.Contains(sent, want) {
			t.Errorf("history lacks %s: %s", want, sent)
		}
	}

	// Structured output: text.format json_schema becomes response_format.
	post(t, `{"model":"sim-chat","input":"hi","text":{"format":{"type":"json_schema","name":"a","schema":{"type":"object","properties":{"x":{"type":"string"}}}}}}`)
	if !strings.Contains(string(env.Sims["chatonly"].LastRequest()), `"response_format":{"json_schema":`) {
		t.Errorf("format %s", env.Sims["chatonly"].LastRequest())
	}

	rows := env.Ledger(t, "acme")
	last := rows[len(rows)-1]
	if last.Surface != "responses" || last.Route != "responses" || !strings.HasPrefix(last.Ref, "resp_") || last.PromptTokens == 0 {
		t.Errorf("ledger row %+v", last)
	}
}

func TestResponsesStreamTranslated(t *testing.T) {
	env := startResponses(t)
	spec := openaispec.ForTest(t)
	for _, tc := range []struct{ name, body, want string }{
		{"text", `{"model":"sim-chat","input":"Hello there","stream":true}`, "response.output_text.delta"},
		{"tool", `{"model":"sim-chat","input":"weather in Paris? get_weather","stream":true,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}`, "response.function_call_arguments.delta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := env.Request(t, "POST", "/v1/responses", tc.body)
			req.Header.Set("SPASS-Tools", "none")
			resp := gatewaytest.Do(t, req)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("%d %s", resp.StatusCode, readAll(t, resp))
			}
			events := respEvents(t, resp)
			var names []string
			for i, e := range events {
				names = append(names, e.Name)
				var v struct {
					Type string `json:"type"`
					Seq  int    `json:"sequence_number"`
				}
				json.Unmarshal([]byte(e.Data), &v)
				if v.Type != e.Name || v.Seq != i {
					t.Errorf("event %d: %s %+v", i, e.Name, v)
				}
				if err := spec.Validate("ResponseStreamEvent", []byte(e.Data)); err != nil {
					t.Errorf("%s: %v\n%s", e.Name, err, e.Data)
				}
			}
			if len(names) < 6 || names[0] != "response.created" || names[1] != "response.in_progress" ||
				names[2] != "response.output_item.added" || names[len(names)-1] != "response.completed" || !strings.Contains(strings.Join(names, " "), tc.want) {
				t.Fatalf("events %v", names)
			}
			var done struct {
				Response struct {
					ID string `json:"id"`
				} `json:"response"`
			}
			json.Unmarshal([]byte(events[len(events)-1].Data), &done)
			got := gatewaytest.Do(t, env.Request(t, "GET", "/v1/responses/"+done.Response.ID, ""))
			if b := readAll(t, got); got.StatusCode != 200 || spec.Validate("Response", []byte(b)) != nil {
				t.Errorf("stored: %d %s", got.StatusCode, b)
			}
		})
	}
}

func TestResponsesPassThroughANativeBackend(t *testing.T) {
	env := startResponses(t)
	spec := openaispec.ForTest(t)
	req := env.Request(t, "POST", "/v1/responses", `{"model":"native-chat","input":"Hello there"}`)
	req.Header.Set("SPASS-Tools", "none")
	resp := gatewaytest.Do(t, req)
	b := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("SPASS-Backend") != "native" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, b)
	}
	var r map[string]any
	json.Unmarshal([]byte(b), &r)
	if outputText(r) != "Hello! You said: Hello there" || r["model"] != "native-chat" || !strings.HasPrefix(r["id"].(string), "resp_") || r["id"] == "resp_sim00000001" {
		t.Errorf("answer %s", b)
	}
	sent := string(env.Sims["native"].LastRequest())
	if !strings.Contains(sent, `"input":[{"id":"msg_`) || !strings.Contains(sent, `"store":false`) || !strings.Contains(sent, `"model":"sim-chat"`) {
		t.Errorf("native body %s", sent)
	}

	// previous_response_id is the gateway's: the backend gets the conversation inlined.
	req = env.Request(t, "POST", "/v1/responses", `{"model":"native-chat","input":"and again","stream":true,"previous_response_id":"`+r["id"].(string)+`"}`)
	req.Header.Set("SPASS-Tools", "none")
	resp = gatewaytest.Do(t, req)
	events := respEvents(t, resp)
	if len(events) < 5 || events[0].Name != "response.created" || events[len(events)-1].Name != "response.completed" {
		t.Fatalf("events %v", events)
	}
	for _, e := range events {
		if err := spec.Validate("ResponseStreamEvent", []byte(e.Data)); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		if strings.Contains(e.Data, "resp_sim") {
			t.Errorf("the backend's id leaked: %s", e.Data)
		}
	}
	if sent := string(env.Sims["native"].LastRequest()); strings.Contains(sent, "previous_response_id") || !strings.Contains(sent, "Hello! You said: Hello there") {
		t.Errorf("native body %s", sent)
	}
	rows := env.Ledger(t, "acme")
	if last := rows[len(rows)-1]; last.Backend != "native" || last.Surface != "responses" || last.CompletionTokens == 0 || last.Estimated {
		t.Errorf("ledger %+v", last)
	}
}

func TestResponsesAreScopedAndListed(t *testing.T) {
	env := startResponses(t)
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/responses", `{"model":"sim-chat","input":[{"role":"user","content":"one"},{"role":"user","content":[{"type":"input_text","text":"two"}]}]}`))
	var r struct {
		ID string `json:"id"`
	}
	readJSON(t, resp.Body, &r)
	as := func(token, user, method, path string) *http.Response {
		req := env.Request(t, method, path, "")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("SPASS-User-Id", user)
		return gatewaytest.Do(t, req)
	}
	for _, who := range [][2]string{{gatewaytest.AdminToken, "bob"}, {gatewaytest.OtherToken, "alice"}} {
		expectError(t, as(who[0], who[1], "GET", "/v1/responses/"+r.ID), 404, "response_not_found")
		expectError(t, as(who[0], who[1], "GET", "/v1/responses/"+r.ID+"/input_items"), 404, "response_not_found")
		expectError(t, as(who[0], who[1], "DELETE", "/v1/responses/"+r.ID), 404, "response_not_found")
		req := env.Request(t, "POST", "/v1/responses", `{"model":"sim-chat","input":"x","previous_response_id":"`+r.ID+`"}`)
		req.Header.Set("Authorization", "Bearer "+who[0])
		req.Header.Set("SPASS-User-Id", who[1])
		expectError(t, gatewaytest.Do(t, req), 404, "response_not_found")
	}
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"data"`
		HasMore bool   `json:"has_more"`
		FirstID string `json:"first_id"`
	}
	readJSON(t, as(gatewaytest.AdminToken, "alice", "GET", "/v1/responses/"+r.ID+"/input_items?limit=1").Body, &list)
	if list.Object != "list" || len(list.Data) != 1 || list.Data[0].Content[0].Text != "two" || !list.HasMore {
		t.Fatalf("page 1 %+v", list)
	}
	readJSON(t, as(gatewaytest.AdminToken, "alice", "GET", "/v1/responses/"+r.ID+"/input_items?after="+list.FirstID).Body, &list)
	if len(list.Data) != 1 || list.Data[0].Content[0].Text != "one" || list.HasMore {
		t.Fatalf("page 2 %+v", list)
	}
	if d := as(gatewaytest.AdminToken, "alice", "DELETE", "/v1/responses/"+r.ID); d.StatusCode != 200 {
		t.Fatalf("delete %d", d.StatusCode)
	}
	expectError(t, as(gatewaytest.AdminToken, "alice", "GET", "/v1/responses/"+r.ID), 404, "response_not_found")

	// store: false keeps nothing.
	resp = gatewaytest.Do(t, env.Request(t, "POST", "/v1/responses", `{"model":"sim-chat","input":"x","store":false}`))
	readJSON(t, resp.Body, &r)
	expectError(t, as(gatewaytest.AdminToken, "alice", "GET", "/v1/responses/"+r.ID), 404, "response_not_found")
}

// Each target of a chain serves the form it can: a native backend that fails
// falls back to a chat backend, which gets the translation.
func TestResponsesFallBackFromNativeToTranslated(t *testing.T) {
	env := startResponses(t)
	for _, stream := range []string{"false", "true"} {
		req := env.Request(t, "POST", "/v1/responses", `{"model":"mixed","input":"Hello there","stream":`+stream+`}`)
		req.Header.Set("SPASS-Tools", "none")
		resp := gatewaytest.Do(t, req)
		b := readAll(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("SPASS-Backend") != "chatonly" || resp.Header.Get("SPASS-Fallback-Count") != "1" ||
			!strings.Contains(b, "Hello! You said: Hello there") {
			t.Fatalf("stream %s: %d %v %s", stream, resp.StatusCode, resp.Header, b)
		}
	}
}

// A stream cut after its first event ends with error and response.failed, and
// the response is not kept.
func TestResponsesStreamCut(t *testing.T) {
	env := startResponses(t)
	for _, model := range []string{"cut-chat", "cut-native"} {
		t.Run(model, func(t *testing.T) {
			req := env.Request(t, "POST", "/v1/responses", `{"model":"`+model+`","input":"Hello there my good friend how are you today","stream":true}`)
			req.Header.Set("SPASS-Tools", "none")
			events := respEvents(t, gatewaytest.Do(t, req))
			n := len(events)
			if n < 3 || events[n-2].Name != "error" || events[n-1].Name != "response.failed" || !strings.Contains(events[n-2].Data, "stream_interrupted") {
				t.Fatalf("events %v", events)
			}
			var failed struct {
				Response struct{ ID, Status string } `json:"response"`
			}
			json.Unmarshal([]byte(events[n-1].Data), &failed)
			if failed.Response.Status != "failed" {
				t.Errorf("failed event %s", events[n-1].Data)
			}
			expectError(t, gatewaytest.Do(t, env.Request(t, "GET", "/v1/responses/"+failed.Response.ID, "")), 404, "response_not_found")
		})
	}
}

func TestResponsesInputImage(t *testing.T) {
	env := startResponses(t)
	body := `{"model":"sim-vision","input":[{"role":"user","content":[{"type":"input_text","text":"What is it?"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}]}]}`
	resp := gatewaytest.Do(t, env.Request(t, "POST", "/v1/responses", body))
	var r map[string]any
	readJSON(t, resp.Body, &r)
	if !strings.HasPrefix(outputText(r), "I see an image.") {
		t.Errorf("answer %v", r)
	}
	if sent := string(env.Sims["chatonly"].LastRequest()); !strings.Contains(sent, `{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}`) {
		t.Errorf("chat form %s", sent)
	}
	expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/responses", strings.Replace(body, "sim-vision", "sim-chat", 1))), 501, "capability_not_supported")
}

func TestResponsesRefusals(t *testing.T) {
	env := startResponses(t)
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"model":"sim-embed","input":"x"}`, 501, "capability_not_supported"},
		{`{"model":"nope","input":"x"}`, 404, "model_not_found"},
		{`{"input":"x"}`, 400, "missing_parameter"},
		{`{"model":"sim-chat"}`, 400, "missing_parameter"},
		{`{"model":"sim-chat","model":"native-chat","input":"x"}`, 400, "duplicate_key"},
		{`{"model":"sim-chat","input":"x","user_id":"eve"}`, 400, "user_id_not_allowed"},
		{`{"model":"sim-chat","input":"x","tools":[{"type":"web_search"}]}`, 400, "invalid_request"},
		{`{"model":"sim-chat","input":[{"type":"item_reference","id":"x"}]}`, 400, "invalid_request"},
		{`{"model":"sim-chat","input":"x","previous_response_id":"resp_missing"}`, 404, "response_not_found"},
		{`{"model":"native-chat","input":"x","conversation":"conv_theirs"}`, 400, "invalid_request"},
		{`{"model":"native-chat","input":"x","prompt":{"id":"pmpt_theirs"}}`, 400, "invalid_request"},
	} {
		expectError(t, gatewaytest.Do(t, env.Request(t, "POST", "/v1/responses", tc.body)), tc.status, tc.code)
	}
}

// outputText joins the output_text parts of a response's message items.
func outputText(r map[string]any) string {
	var b strings.Builder
	out, _ := r["output"].([]any)
	for _, it := range out {
		m, _ := it.(map[string]any)
		parts, _ := m["content"].([]any)
		for _, p := range parts {
			if pm, _ := p.(map[string]any); pm["type"] == "output_text" {
				b.WriteString(pm["text"].(string))
			}
		}
	}
	return b.String()
}
