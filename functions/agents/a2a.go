package agents

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/web"
)

// A2A (Agent2Agent, protocol 0.3.0) exposes the /a1 agents whose definition says
// a2a: true to other agents: an agent card each, and the JSON-RPC 2.0 methods
// message/send, message/stream (SSE), tasks/get and tasks/cancel on one endpoint
// per agent. An A2A task is one turn of an /a1 session, run by the same code as
// POST /a1/sessions/{id}/messages; the task's contextId is the session's id, so a
// client that sends it again continues the session. See docs/a2a.md.

// a2aProtocol is the A2A protocol version the cards declare.
const a2aProtocol = "0.3.0"

// mountA2A adds the A2A routes to the group's mux. Cards need a token (an agent
// is its tenant's); the JSON-RPC endpoint also SPASS-User-Id, like any session.
func mountA2A(mux *http.ServeMux, a *app.App) {
	h := &a2aHandler{a: a, running: map[string]context.CancelFunc{}}
	mux.Handle("GET /v1/a2a", a.Auth.Require(web.Handle(h.list)))
	mux.Handle("GET /v1/a2a/{agent}/.well-known/agent-card.json", a.Auth.Require(web.Handle(h.card)))
	mux.Handle("POST /v1/a2a/{agent}", a.Auth.RequireUser(web.Handle(h.rpc)))
}

// a2aHandler serves A2A; running holds the cancel functions of the tasks this
// process runs, so tasks/cancel can stop them.
type a2aHandler struct {
	a       *app.App
	mu      sync.Mutex
	running map[string]context.CancelFunc
}

// agentCard is an A2A AgentCard.
type agentCard struct {
	ProtocolVersion    string                    `json:"protocolVersion"`
	Name               string                    `json:"name"`
	Description        string                    `json:"description"`
	URL                string                    `json:"url"`
	PreferredTransport string                    `json:"preferredTransport"`
	Version            string                    `json:"version"`
	Provider           map[string]string         `json:"provider"`
	DocumentationURL   string                    `json:"documentationUrl"`
	Capabilities       map[string]bool           `json:"capabilities"`
	SecuritySchemes    map[string]map[string]any `json:"securitySchemes"`
	Security           []map[string][]string     `json:"security"`
	DefaultInputModes  []string                  `json:"defaultInputModes"`
	DefaultOutputModes []string                  `json:"defaultOutputModes"`
	Skills             []agentSkill              `json:"skills"`
}

type agentSkill struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
}

// cardOf builds ag's card; base is the gateway's URL as the client reached it.
func cardOf(ag agent.Agent, base string) agentCard {
	desc := ag.Description
	if desc == "" {
		desc = "The " + ag.Name + " agent of a SPASS gateway."
	}
	tags := append([]string{"agent"}, ag.Tools...)
	return agentCard{
		ProtocolVersion: a2aProtocol, Name: ag.Name, Description: desc, URL: base + "/v1/a2a/" + ag.Name,
		PreferredTransport: "JSONRPC", Version: "1",
		Provider:         map[string]string{"organization": "SPASS gateway", "url": base},
		DocumentationURL: base + "/docs/a2a",
		Capabilities:     map[string]bool{"streaming": true, "pushNotifications": false, "stateTransitionHistory": false},
		SecuritySchemes: map[string]map[string]any{"bearer": {"type": "http", "scheme": "bearer",
			"description": "A SPASS token; the JSON-RPC endpoint also needs the SPASS-User-Id header."}},
		Security:          []map[string][]string{{"bearer": {}}},
		DefaultInputModes: []string{"text/plain"}, DefaultOutputModes: []string{"text/plain"},
		Skills: []agentSkill{{ID: ag.Name, Name: ag.Name, Description: desc, Tags: tags}},
	}
}

// baseURL is the gateway's URL as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// exposed returns the tenant's agent name when it is exposed over A2A.
func (h *a2aHandler) exposed(r *http.Request, name string) (agent.Agent, error) {
	ag, ok, err := h.a.FindAgent(r.Context(), auth.From(r.Context()).Tenant, name)
	if err != nil {
		return ag, apierr.E(apierr.Internal, "", err)
	}
	if !ok || !ag.A2A {
		return ag, apierr.P(apierr.AgentNotFound, "agent", "No agent "+apierr.Quote(name)+" is exposed over A2A; GET /v1/a2a lists those that are.")
	}
	return ag, nil
}

// card serves "GET /v1/a2a/{agent}/.well-known/agent-card.json".
func (h *a2aHandler) card(w http.ResponseWriter, r *http.Request) error {
	ag, err := h.exposed(r, r.PathValue("agent"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, cardOf(ag, baseURL(r)))
}

// list serves "GET /v1/a2a": the cards of every agent the tenant exposes.
func (h *a2aHandler) list(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	stored, err := h.a.Store.Agents(r.Context(), p.Tenant)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	seen := map[string]bool{}
	out := struct {
		Object string      `json:"object"`
		Data   []agentCard `json:"data"`
	}{Object: "list", Data: []agentCard{}}
	for _, ag := range append(stored, h.a.VisibleFileAgents(p.Tenant)...) {
		if ag.A2A && !seen[ag.Name] { // a tenant's own agent hides a file agent of its name
			out.Data = append(out.Data, cardOf(ag, baseURL(r)))
		}
		seen[ag.Name] = true
	}
	slices.SortFunc(out.Data, func(x, y agentCard) int { return strings.Compare(x.Name, y.Name) })
	return web.JSON(w, http.StatusOK, out)
}

// a2aPart is a message part; the gateway reads and writes text parts.
type a2aPart struct {
	Kind     string          `json:"kind"`
	Text     string          `json:"text,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	File     json.RawMessage `json:"file,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// a2aMessage is an A2A Message.
type a2aMessage struct {
	Kind      string          `json:"kind"`
	Role      string          `json:"role"`
	Parts     []a2aPart       `json:"parts"`
	MessageID string          `json:"messageId"`
	ContextID string          `json:"contextId,omitempty"`
	TaskID    string          `json:"taskId,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
}

type a2aStatus struct {
	State     string      `json:"state"`
	Message   *a2aMessage `json:"message,omitempty"`
	Timestamp string      `json:"timestamp"`
}

type a2aArtifact struct {
	ArtifactID string    `json:"artifactId"`
	Name       string    `json:"name,omitempty"`
	Parts      []a2aPart `json:"parts"`
}

// a2aTask is an A2A Task.
type a2aTask struct {
	Kind      string         `json:"kind"`
	ID        string         `json:"id"`
	ContextID string         `json:"contextId"`
	Status    a2aStatus      `json:"status"`
	History   []a2aMessage   `json:"history"`
	Artifacts []a2aArtifact  `json:"artifacts,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// statusUpdate and artifactUpdate are the events of message/stream.
type statusUpdate struct {
	Kind      string    `json:"kind"`
	TaskID    string    `json:"taskId"`
	ContextID string    `json:"contextId"`
	Status    a2aStatus `json:"status"`
	Final     bool      `json:"final"`
}

type artifactUpdate struct {
	Kind      string      `json:"kind"`
	TaskID    string      `json:"taskId"`
	ContextID string      `json:"contextId"`
	Artifact  a2aArtifact `json:"artifact"`
	Append    bool        `json:"append"`
	LastChunk bool        `json:"lastChunk"`
}

// answerArtifact is the id of the artifact that carries an agent's answer.
const answerArtifact = "answer"

// agentMessage is the agent's answer as an A2A message.
func agentMessage(t agent.Task, text string) *a2aMessage {
	return &a2aMessage{Kind: "message", Role: "agent", Parts: []a2aPart{{Kind: "text", Text: text}},
		MessageID: "msg_" + t.ID, ContextID: t.SessionID, TaskID: t.ID}
}

// taskView is the A2A form of a stored task; history keeps the last n messages
// (n < 0: all).
func taskView(t agent.Task, n int) a2aTask {
	v := a2aTask{Kind: "task", ID: t.ID, ContextID: t.SessionID, Metadata: map[string]any{"agent": t.Agent, "turn": t.Turn},
		Status: a2aStatus{State: t.State, Timestamp: time.UnixMilli(t.UpdatedAt).UTC().Format(time.RFC3339Nano)}}
	var user a2aMessage
	if json.Unmarshal(t.Message, &user) == nil {
		v.History = append(v.History, user)
	}
	switch {
	case t.State == agent.TaskCompleted:
		v.Status.Message = agentMessage(t, t.Reply)
		v.History = append(v.History, *v.Status.Message)
		v.Artifacts = []a2aArtifact{{ArtifactID: answerArtifact, Name: answerArtifact, Parts: []a2aPart{{Kind: "text", Text: t.Reply}}}}
	case t.State == agent.TaskFailed:
		v.Status.Message = agentMessage(t, "The turn failed: "+t.Error)
		v.Metadata["error"] = t.Error
	}
	if n >= 0 && len(v.History) > n {
		v.History = v.History[len(v.History)-n:]
	}
	if v.History == nil {
		v.History = []a2aMessage{}
	}
	return v
}
