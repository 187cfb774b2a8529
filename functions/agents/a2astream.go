package agents

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"spass/shared/agent"
	"spass/shared/chat"
)

// stream serves message/stream: an SSE stream of JSON-RPC responses that opens
// with the task (working), carries the answer as artifact-update events as the
// model writes it, and ends with the final status-update.
func (h *a2aHandler) stream(w http.ResponseWriter, r *http.Request, id json.RawMessage, t *agentTurn, task agent.Task) error {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	rc := http.NewResponseController(w)
	rc.EnableFullDuplex() // keep the request body readable while we write (golang/go#40747)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &a2aEvents{w: w, rc: rc, id: id, task: task}
	out.send(taskView(task, -1))
	done := h.runTask(r.Context(), t, task, out)
	out.finish(done)
	return nil
}

// a2aEvents is the chat.Sink of a streamed task: it turns the chat stream's
// chunks into A2A events. The delta of a chunk is held until the next arrives, so
// that the last one can say lastChunk.
type a2aEvents struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	id   json.RawMessage
	task agent.Task

	mu      sync.Mutex
	header  http.Header
	pending string // the delta not sent yet
	chunks  int    // artifact chunks sent
}

func (e *a2aEvents) Header() http.Header {
	if e.header == nil {
		e.header = http.Header{}
	}
	return e.header
}

// Answer takes a whole answer (a cached or non-streamed one) as one chunk.
func (e *a2aEvents) Answer(body []byte) {
	e.delta(gjson.GetBytes(body, "choices.0.message.content").Str)
}

func (e *a2aEvents) Events() chat.EventWriter { return e }

// Write reads one chat chunk; what is not answer text (usage, [DONE], errors,
// which the task's final status reports) is dropped.
func (e *a2aEvents) Write(data []byte) error {
	if len(data) == 0 || data[0] != '{' {
		return nil
	}
	if d := gjson.GetBytes(data, "choices.0.delta.content").Str; d != "" {
		e.delta(d)
	}
	return nil
}

func (e *a2aEvents) Flush() error { return nil }
func (e *a2aEvents) Close()       {}

func (e *a2aEvents) delta(d string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pending != "" {
		e.artifact(e.pending, false)
	}
	e.pending = d
}

// artifact sends one chunk of the answer artifact; mu is held.
func (e *a2aEvents) artifact(text string, last bool) {
	e.send(artifactUpdate{Kind: "artifact-update", TaskID: e.task.ID, ContextID: e.task.SessionID, Append: e.chunks > 0, LastChunk: last,
		Artifact: a2aArtifact{ArtifactID: answerArtifact, Name: answerArtifact, Parts: []a2aPart{{Kind: "text", Text: text}}}})
	e.chunks++
}

// finish sends the last chunk and the task's final status.
func (e *a2aEvents) finish(done agent.Task) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pending != "" {
		e.artifact(e.pending, true)
		e.pending = ""
	}
	v := taskView(done, 0)
	if v.Status.Timestamp == "" {
		v.Status.Timestamp = time.Now().UTC().Format(time.RFC3339Nano)
	}
	e.send(statusUpdate{Kind: "status-update", TaskID: done.ID, ContextID: done.SessionID, Status: v.Status, Final: true})
}

// send writes one SSE event holding a JSON-RPC response and flushes it.
func (e *a2aEvents) send(result any) {
	b, _ := json.Marshal(rpcResponse{JSONRPC: "2.0", ID: e.id, Result: result})
	var buf bytes.Buffer
	buf.WriteString("data: ")
	buf.Write(b)
	buf.WriteString("\n\n")
	e.w.Write(buf.Bytes()) // a failed write means the client left; the task still ends
	e.rc.Flush()
}
