package discovery_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/gatewaytest"
)

// exerciseConversations drives /c1 through the document: a conversation started,
// continued (plain, streamed, with a tool round trip and an image), listed page by
// page, read as a tenant admin, renamed and deleted, and the catalog errors of its
// routes.
func exerciseConversations(t *testing.T, env *gatewaytest.Env, c *contract) {
	turn := func(body string) *http.Request { return env.Request(t, "POST", "/c1/chat", body) }
	var first struct {
		ConversationID string `json:"conversation_id"`
	}
	resp, body := c.do(t, turn(`{"model":"sim-chat","provider":"auto","message":"My name is Ada.","system_prompt":"You answer in one sentence.","metadata":{"app":"notes"}}`), http.StatusOK)
	decode(t, body, &first)
	id := first.ConversationID
	if id == "" || resp.Header.Get("SPASS-Conversation-Id") != id {
		t.Fatalf("header %q, body %s", resp.Header.Get("SPASS-Conversation-Id"), body)
	}
	c.do(t, turn(`{"conversation_id":"`+id+`","message":"What is my name?"}`), http.StatusOK)
	resp, body = c.do(t, turn(`{"conversation_id":"`+id+`","message":"Tell me a story","stream":true}`), http.StatusOK)
	if resp.Header.Get("SPASS-Conversation-Id") != id || !strings.Contains(string(body), `"conversation_id":"`+id+`"`) {
		t.Fatalf("stream header %q, body %.300s", resp.Header.Get("SPASS-Conversation-Id"), body)
	}

	weather := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`
	var call struct {
		ConversationID string `json:"conversation_id"`
		Message        struct {
			ToolCalls []struct{ ID string } `json:"tool_calls"`
		}
	}
	_, body = c.do(t, turn(`{"model":"sim-chat","message":"Use get_weather: weather in Paris?",`+weather+`}`), http.StatusOK)
	if decode(t, body, &call); len(call.Message.ToolCalls) != 1 {
		t.Fatalf("no tool call: %s", body)
	}
	c.do(t, turn(`{"conversation_id":"`+call.ConversationID+`","messages":[{"role":"tool","tool_call_id":"`+call.Message.ToolCalls[0].ID+`","content":"21 C"}],`+weather+`}`), http.StatusOK)
	c.do(t, turn(`{"model":"sim-vision","message":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"`+tinyPNG+`"}}]}`), http.StatusOK)

	var page struct {
		Data       []struct{ ID string }
		HasMore    bool   `json:"has_more"`
		NextCursor string `json:"next_cursor"`
	}
	seen := map[string]bool{}
	for query := "?limit=2"; query != ""; {
		_, body = c.do(t, env.Request(t, "GET", "/c1/conversations"+query, ""), http.StatusOK)
		page.NextCursor = ""
		decode(t, body, &page)
		for _, d := range page.Data {
			seen[d.ID] = true
		}
		if query = ""; page.HasMore {
			query = "?limit=2&after=" + page.NextCursor
		}
	}
	if len(seen) != 3 || !seen[id] || !seen[call.ConversationID] {
		t.Fatalf("the pages listed %v", seen)
	}
	c.do(t, env.Request(t, "GET", "/c1/conversations/"+id, ""), http.StatusOK)
	if _, body = c.do(t, env.Request(t, "GET", "/c1/conversations/"+call.ConversationID+"?after=1&limit=2", ""), http.StatusOK); !strings.Contains(string(body), `"tool_calls"`) {
		t.Fatalf("messages 2-3 of the tool conversation: %s", body)
	}
	admin := env.Request(t, "GET", "/c1/conversations/"+id, "")
	admin.Header.Del("SPASS-User-Id")
	c.do(t, admin, http.StatusOK)
	if _, body = c.do(t, env.Request(t, "PATCH", "/c1/conversations/"+id, `{"title":"About Ada","metadata":{"app":"planner"}}`), http.StatusOK); !strings.Contains(string(body), `"title":"About Ada"`) {
		t.Fatalf("rename: %s", body)
	}
	c.do(t, env.Request(t, "DELETE", "/c1/conversations/"+call.ConversationID, ""), http.StatusOK)

	_, body = c.do(t, env.Request(t, "GET", "/c1/conversations/"+call.ConversationID, ""), http.StatusNotFound)
	wantCode(t, body, "conversation_not_found")
	_, body = c.do(t, withHeader(turn(`{"conversation_id":"`+id+`","message":"let me in"}`), "SPASS-User-Id", "mallory"), http.StatusNotFound)
	wantCode(t, body, "conversation_not_found")
	_, body = c.do(t, turn(`{"message":"x","provider":"mars"}`), http.StatusBadRequest)
	wantCode(t, body, "invalid_request")
	_, body = c.do(t, turn(`{"model":"sim-chat"}`), http.StatusBadRequest)
	wantCode(t, body, "missing_parameter")
	_, body = c.do(t, env.Request(t, "GET", "/c1/conversations?after=nonsense", ""), http.StatusBadRequest)
	wantCode(t, body, "invalid_query")
	noUser := asUser(env.Request(t, "GET", "/c1/conversations", ""))
	noUser.Header.Del("SPASS-User-Id")
	_, body = c.do(t, noUser, http.StatusBadRequest)
	wantCode(t, body, "missing_user_header")
	_, body = c.do(t, env.Request(t, "PATCH", "/c1/conversations/"+id, `{"title":"`+strings.Repeat("x", 201)+`"}`), http.StatusBadRequest)
	wantCode(t, body, "invalid_request")
	if ok, err := env.App.Store.LeaseConversation(context.Background(), "acme", id, time.Now().Add(time.Minute).UnixMilli()); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	_, body = c.do(t, turn(`{"conversation_id":"`+id+`","message":"meanwhile"}`), http.StatusConflict)
	wantCode(t, body, "conversation_busy")
}
