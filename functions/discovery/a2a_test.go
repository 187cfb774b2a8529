package discovery_test

import (
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

// exerciseA2A drives the A2A routes through the document: an exposed agent's card
// and the listing, each JSON-RPC method (a result and an error), a stream, and
// the catalog errors of an agent that is not exposed.
func exerciseA2A(t *testing.T, env *gatewaytest.Env, c *contract) {
	c.do(t, env.Request(t, "POST", "/a1/agents", `{"name":"peer","model":"sim-chat","tools":["calculator"],"a2a":true}`), http.StatusCreated)
	c.do(t, env.Request(t, "GET", "/v1/a2a", ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/v1/a2a/peer/.well-known/agent-card.json", ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/v1/a2a/researcher/.well-known/agent-card.json", ""), http.StatusNotFound)
	rpc := func(method, params string) []byte {
		_, body := c.do(t, env.Request(t, "POST", "/v1/a2a/peer", `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`), http.StatusOK)
		return body
	}
	body := rpc("message/send", `{"message":{"kind":"message","role":"user","messageId":"m1","parts":[{"kind":"text","text":"calculator {\"expression\":\"6*7\"}"}]}}`)
	id := between(string(body), `"kind":"task","id":"`, `"`)
	if id == "" || !strings.Contains(string(body), `"state":"completed"`) {
		t.Fatalf("message/send: %s", body)
	}
	if body = rpc("message/stream", `{"message":{"role":"user","messageId":"m2","parts":[{"kind":"text","text":"Hello"}]}}`); !strings.Contains(string(body), `"status-update"`) {
		t.Fatalf("message/stream: %s", body)
	}
	rpc("tasks/get", `{"id":"`+id+`"}`)
	if body = rpc("tasks/cancel", `{"id":"`+id+`"}`); !strings.Contains(string(body), `-32002`) {
		t.Fatalf("tasks/cancel of a completed task: %s", body)
	}
	rpc("tasks/get", `{"id":"task_unknown"}`)
	c.do(t, env.Request(t, "POST", "/v1/a2a/researcher", `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"x"}}`), http.StatusNotFound)
}

// exerciseMCP drives POST /mcp through the document: a tools/list and a
// tools/call as one JSON-RPC message each, and the 401 of a missing token.
func exerciseMCP(t *testing.T, env *gatewaytest.Env, c *contract) {
	mcp := func(body string) *http.Request {
		r := env.Request(t, "POST", "/mcp", body)
		r.Header.Set("Accept", "application/json, text/event-stream")
		return r
	}
	if _, body := c.do(t, mcp(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`), http.StatusOK); !strings.Contains(string(body), `"calculator"`) {
		t.Fatalf("tools/list: %s", body)
	}
	if _, body := c.do(t, mcp(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"calculator","arguments":{"expression":"6*7"}}}`), http.StatusOK); !strings.Contains(string(body), `42`) {
		t.Fatalf("tools/call: %s", body)
	}
	r := mcp(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
	r.Header.Del("Authorization")
	c.do(t, r, http.StatusUnauthorized)
}

// between returns the text of s between the first before and the next after.
func between(s, before, after string) string {
	_, rest, ok := strings.Cut(s, before)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, after)
	return v
}
