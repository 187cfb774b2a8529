package discovery_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// fileAgentYAML is the file agent of the contract test's agents directory.
const fileAgentYAML = `name: researcher
description: Answers with sources, keeps notes
model: sim-chat
system_prompt: You answer with sources.
tools: [calculator, datetime, memory_save, memory_recall]
temperature: 0.2
max_rounds: 4
compaction: {threshold: 0.8, keep_last_turns: 2}
session_overrides: [temperature, model]
`

// agentsDir is an agents directory holding fileAgentYAML.
func agentsDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "researcher.yaml"), []byte(fileAgentYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// exerciseAgents drives /a1 through the document: agents defined in JSON and YAML,
// read, replaced and deleted beside the read-only file agent; a session opened with
// overrides, turns with tool steps (plain and streamed, with an image), its messages
// page by page, read as a tenant admin, compacted, its lineage, and deleted; and the
// catalog errors of its routes.
func exerciseAgents(t *testing.T, env *gatewaytest.Env, c *contract) {
	yamlBody := func(method, path, body string) *http.Request {
		return withHeader(env.Request(t, method, path, body), "Content-Type", "application/yaml")
	}
	c.do(t, env.Request(t, "POST", "/a1/agents", `{"name":"helper","description":"Does sums","model":"sim-chat","system_prompt":"You answer briefly.",`+
		`"tools":["calculator"],"temperature":0.3,"max_tokens":512,"max_rounds":3,"compaction":{"threshold":0.7,"keep_last_turns":1},"session_overrides":["system_prompt"]}`), http.StatusCreated)
	// An agent's rag_index must be one of the tenant's indices.
	if _, body := c.do(t, yamlBody("POST", "/a1/agents", "name: notes\nmodel: sim-vision\nrag_index: handbook\ntools: []\n"), http.StatusBadRequest); !strings.Contains(string(body), `"param":"rag_index"`) {
		t.Fatalf("an agent on a missing index: %s", body)
	}
	c.do(t, env.Request(t, "POST", "/a1/rag/indices", `{"name":"handbook"}`), http.StatusCreated)
	c.do(t, yamlBody("POST", "/a1/agents", "name: notes\nmodel: sim-vision\nrag_index: handbook\ntools: []\n"), http.StatusCreated)
	if _, body := c.do(t, env.Request(t, "GET", "/a1/agents", ""), http.StatusOK); !strings.Contains(string(body), `"source":"file"`) {
		t.Fatalf("the list lacks the file agent: %s", body)
	}
	c.do(t, env.Request(t, "GET", "/a1/agents/researcher", ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/a1/agents/helper", ""), http.StatusOK)
	c.do(t, env.Request(t, "PUT", "/a1/agents/helper", `{"model":"sim-chat","tools":["calculator"],"compaction":{"keep_last_turns":1},"session_overrides":["system_prompt"]}`), http.StatusOK)
	c.do(t, yamlBody("PUT", "/a1/agents/scratch", "model: sim-chat\nsystem_prompt: You answer in one sentence.\n"), http.StatusCreated)
	c.do(t, env.Request(t, "DELETE", "/a1/agents/scratch", ""), http.StatusOK)

	var sess struct{ ID string }
	_, body := c.do(t, env.Request(t, "POST", "/a1/agents/helper/sessions", `{"overrides":{"system_prompt":"You answer in one word."}}`), http.StatusCreated)
	decode(t, body, &sess)
	id := sess.ID
	c.do(t, env.Request(t, "POST", "/a1/agents/researcher/sessions", ""), http.StatusCreated)
	c.do(t, env.Request(t, "GET", "/a1/agents/helper/sessions?limit=5", ""), http.StatusOK)
	c.do(t, env.Request(t, "GET", "/a1/sessions/"+id, ""), http.StatusOK)

	turn := func(body string) *http.Request { return env.Request(t, "POST", "/a1/sessions/"+id+"/messages", body) }
	if _, body = c.do(t, turn(`{"content":"use the calculator {\"expression\": \"6*7\"}"}`), http.StatusOK); !strings.Contains(string(body), `"tool":"calculator"`) {
		t.Fatalf("no step: %s", body)
	}
	if _, body = c.do(t, turn(`{"content":"use the calculator {\"expression\": \"2+2\"}","stream":true}`), http.StatusOK); !strings.Contains(string(body), `"object":"agent.step"`) ||
		!strings.Contains(string(body), `"object":"agent.turn.start"`) {
		t.Fatalf("the stream lacks its events: %.600s", body)
	}
	c.do(t, turn(`{"content":"Hello there"}`), http.StatusOK)
	var notes struct{ ID string }
	_, body = c.do(t, env.Request(t, "POST", "/a1/agents/notes/sessions", ""), http.StatusCreated)
	decode(t, body, &notes)
	c.do(t, env.Request(t, "POST", "/a1/sessions/"+notes.ID+"/messages", `{"content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"`+tinyPNG+`"}}]}`), http.StatusOK)

	if _, body = c.do(t, env.Request(t, "GET", "/a1/sessions/"+id+"/messages?limit=2&after=1", ""), http.StatusOK); !strings.Contains(string(body), `"has_more":true`) {
		t.Fatalf("messages 2-3 of 6: %s", body)
	}
	admin := env.Request(t, "GET", "/a1/sessions/"+id+"/messages", "")
	admin.Header.Del("SPASS-User-Id")
	c.do(t, admin, http.StatusOK)
	// The test gateway runs jobs: the compaction is queued (202), then runs.
	if _, body = c.do(t, env.Request(t, "POST", "/a1/sessions/"+id+"/compact", ""), http.StatusAccepted); !strings.Contains(string(body), `"status":"queued"`) {
		t.Fatalf("compact: %s", body)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body = c.do(t, env.Request(t, "GET", "/a1/sessions/"+id, ""), http.StatusOK)
		if strings.Contains(string(body), `"segment":2`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queued compaction did not run: %s", body)
		}
	}
	if _, body = c.do(t, env.Request(t, "GET", "/a1/sessions/"+id+"/lineage", ""), http.StatusOK); !strings.Contains(string(body), `"segment":2`) {
		t.Fatalf("lineage: %s", body)
	}
	c.do(t, env.Request(t, "DELETE", "/a1/sessions/"+notes.ID, ""), http.StatusOK)

	failures := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"unknown key", env.Request(t, "POST", "/a1/agents", `{"name":"x","model":"sim-chat","temprature":0.3}`), 400, "invalid_agent"},
		{"unknown tool", yamlBody("POST", "/a1/agents", "name: x\nmodel: sim-chat\ntools: [rm_rf]\n"), 400, "invalid_agent"},
		{"agent by a user", asUser(env.Request(t, "POST", "/a1/agents", `{"name":"mine","model":"sim-chat"}`)), 403, "permission_denied"},
		{"shadowing a file agent", env.Request(t, "POST", "/a1/agents", `{"name":"researcher","model":"sim-chat"}`), 409, "agent_exists"},
		{"replacing a file agent", env.Request(t, "PUT", "/a1/agents/researcher", `{"model":"sim-chat"}`), 403, "agent_read_only"},
		{"deleting a file agent", env.Request(t, "DELETE", "/a1/agents/researcher", ""), 403, "agent_read_only"},
		{"unknown agent", env.Request(t, "GET", "/a1/agents/nobody", ""), 404, "agent_not_found"},
		{"sessions of an unknown agent", env.Request(t, "POST", "/a1/agents/nobody/sessions", ""), 404, "agent_not_found"},
		{"an override not allowed", env.Request(t, "POST", "/a1/agents/helper/sessions", `{"overrides":{"temperature":1}}`), 400, "invalid_agent"},
		{"no content", turn(`{"stream":false}`), 400, "missing_parameter"},
		{"another user's session", withHeader(turn(`{"content":"let me in"}`), "SPASS-User-Id", "mallory"), 404, "session_not_found"},
		{"a deleted session", env.Request(t, "GET", "/a1/sessions/"+notes.ID+"/lineage", ""), 404, "session_not_found"},
		{"bad after", env.Request(t, "GET", "/a1/sessions/"+id+"/messages?after=x", ""), 400, "invalid_query"},
		{"no user header", withHeader(asUser(env.Request(t, "GET", "/a1/sessions/"+id, "")), "SPASS-User-Id", ""), 400, "missing_user_header"},
	}
	for _, tc := range failures {
		_, body := c.do(t, tc.req, tc.status)
		wantCode(t, body, tc.code)
	}
	if ok, err := env.App.Store.LeaseSession(context.Background(), "acme", id, time.Now().Add(time.Minute).UnixMilli()); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	// A turn while the session is held is refused; a compaction is queued and
	// waits (its job retries until the session is free).
	_, body = c.do(t, env.Request(t, "POST", "/a1/sessions/"+id+"/messages", `{"content":"meanwhile"}`), http.StatusConflict)
	wantCode(t, body, "session_busy")
	env.App.Store.ReleaseSession(context.Background(), "acme", id)
	c.do(t, env.Request(t, "DELETE", "/a1/sessions/"+id, ""), http.StatusOK)
}
