package simulator

import (
	"encoding/json"
	"net/http"
	"time"
)

// chatChunk is OpenAI's CreateChatCompletionStreamResponse.
type chatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             *usage        `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
	Logprobs     *struct{}  `json:"logprobs"` // always null
}

type chunkDelta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	ToolCalls []toolCallChunk `json:"tool_calls,omitempty"`
}

type toolCallChunk struct {
	Index    int               `json:"index"`
	ID       string            `json:"id,omitempty"`
	Type     string            `json:"type,omitempty"`
	Function functionCallChunk `json:"function"`
	// style, when set, is how MarshalJSON writes the index and the arguments
	// (see ToolStyle); decoding always reads OpenAI's shape.
	style ToolStyle
}

type functionCallChunk struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// maxArgumentFragments is how many pieces a tool call's arguments are
// streamed in at most.
const maxArgumentFragments = 4

// streamChat writes c as Server-Sent Events in the order OpenAI sends them:
// a role chunk, one chunk per token (or per tool-call fragment), a chunk
// with the finish reason, optionally a usage chunk, then [DONE]. header
// supplies the fields every chunk repeats.
func (s *Server) streamChat(x *exchange, header chatChunk, c completion, includeUsage bool, st ToolStyle) {
	x.w.Header().Set("Content-Type", "text/event-stream")
	x.w.Header().Set("Cache-Control", "no-cache")
	x.w.WriteHeader(http.StatusOK)

	sw := &sseWriter{x: x, rc: http.NewResponseController(x.w), header: header, delay: s.opts.TokenDelay}
	if !sw.chunk(chunkDelta{Role: "assistant", Content: new("")}, nil) {
		return
	}
	for _, tok := range c.tokens {
		if !sw.token(chunkDelta{Content: new(tok)}) {
			return
		}
	}
	if !sw.streamCalls(c.toolCalls, st) {
		return
	}

	if x.cut {
		abortResponse(x.w) // short replies reach here before cutAfterTokens
	}
	if x.half && !sw.halfSent { // short replies reach here before cutAfterTokens
		sw.halfSent = true
		if !sw.halfEvent() {
			return
		}
	}
	if !sw.chunk(chunkDelta{}, new(c.finishReason)) {
		return
	}
	if includeUsage {
		final := header
		final.Choices = []chunkChoice{}
		final.Usage = new(c.usage)
		if !sw.event(final) {
			return
		}
	}
	sw.write([]byte("[DONE]"))
}

// sseWriter sends the events of one chat stream, flushing each so that the
// client sees it at once, and notices when the client has gone away. Its
// methods report whether the stream should continue.
type sseWriter struct {
	x      *exchange
	rc     *http.ResponseController
	header chatChunk
	delay  time.Duration
	tokens int // token-carrying chunks sent so far
	// halfSent: FaultHalfEvent's broken event went out.
	halfSent bool
}

// token sends a chunk of generated output after the per-token delay, or
// aborts the connection there if FaultCut is active and enough output has
// gone out.
func (sw *sseWriter) token(d chunkDelta) bool {
	if sw.x.cut && sw.tokens == cutAfterTokens {
		abortResponse(sw.x.w)
	}
	if sw.x.half && sw.tokens == cutAfterTokens && !sw.halfSent {
		sw.halfSent = true
		if !sw.halfEvent() {
			return false
		}
	}
	if !sw.x.wait(sw.delay) {
		return false
	}
	sw.tokens++
	return sw.chunk(d, nil)
}

func (sw *sseWriter) chunk(d chunkDelta, finishReason *string) bool {
	c := sw.header
	c.Choices = []chunkChoice{{Delta: d, FinishReason: finishReason}}
	return sw.event(c)
}

// halfEvent sends the first half of a content chunk as if it were a whole event,
// as a backend bug or a proxy that splits events would.
func (sw *sseWriter) halfEvent() bool {
	c := sw.header
	c.Choices = []chunkChoice{{Delta: chunkDelta{Content: new("half-written")}}}
	data, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return sw.write(data[:len(data)/2])
}

func (sw *sseWriter) event(v any) bool {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // the chunk types always encode
	}
	return sw.write(data)
}

// write sends one "data:" event. A failed write or flush means the
// connection is gone, which counts as the client cancelling.
func (sw *sseWriter) write(data []byte) bool {
	if sw.x.clientGone() {
		return false
	}
	w := sw.x.w
	_, err := w.Write([]byte("data: "))
	if err == nil {
		_, err = w.Write(append(data, "\n\n"...))
	}
	if err == nil {
		err = sw.rc.Flush()
	}
	if err != nil {
		sw.x.recordCancel()
		return false
	}
	return true
}
