package discovery_test

import (
	"net/http"
	"testing"

	"spass/local/gatewaytest"
)

// exerciseResponsesAPI validates the Responses API's routes: create (plain,
// streamed, a tool call, continued), get, input items, delete, and the errors.
func exerciseResponsesAPI(t *testing.T, env *gatewaytest.Env, c *contract) {
	post := func(body string) *http.Request { return env.Request(t, "POST", "/v1/responses", body) }
	var r struct{ ID string }
	_, body := c.do(t, post(`{"model":"sim-chat","input":"Hello","instructions":"Be brief."}`), http.StatusOK)
	decode(t, body, &r)
	c.do(t, post(`{"model":"sim-chat","input":"Hello there","stream":true,"previous_response_id":"`+r.ID+`"}`), http.StatusOK)
	c.do(t, post(`{"model":"sim-chat","input":[{"role":"user","content":"Weather in Paris? get_weather"}],"stream":true,
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}`), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/v1/responses/"+r.ID, ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/v1/responses/"+r.ID+"/input_items?order=asc&limit=5", ""), http.StatusOK)
	c.do(t, env.Request(t, "DELETE", "/v1/responses/"+r.ID, ""), http.StatusOK)
	_, body = c.do(t, env.Request(t, "GET", "/v1/responses/"+r.ID, ""), http.StatusNotFound)
	wantCode(t, body, "response_not_found")
	_, body = c.do(t, post(`{"model":"sim-embed","input":"Hello"}`), http.StatusNotImplemented)
	wantCode(t, body, "capability_not_supported")
	_, body = c.do(t, post(`{"model":"sim-chat"}`), http.StatusBadRequest)
	wantCode(t, body, "missing_parameter")
}
