package chat

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"spass/shared/router"
)

// Surface names the API a request came in through; the ledger files every row
// under one, so usage can be told apart per surface.
type Surface string

// The surfaces that call the core.
const (
	SurfaceV1    Surface = "v1"    // /v1, the OpenAI-compatible API
	SurfaceC1    Surface = "c1"    // /c1 conversations
	SurfaceA1    Surface = "a1"    // /a1 agent turns
	SurfaceBatch Surface = "batch" // batch lines run by the queue workers
	// SurfaceResponses is /v1/responses, OpenAI's Responses API.
	SurfaceResponses Surface = "responses"
)

// Options are what the calling surface decides about one request; the zero value
// is /v1's behaviour.
type Options struct {
	// Surface files the ledger rows; "" means v1.
	Surface Surface
	// Ref is the conversation, session or batch id the ledger rows belong to.
	Ref string
	// Agent and Session identify an agent turn for the tools it runs.
	Agent, Session string
	// History goes before the request's messages (stored turns of a conversation).
	History []Message
	// Tools chooses the stack tools the model is offered.
	Tools ToolPolicy
	// Filter narrows the model's tier chain (tiers, local or cloud backends).
	Filter router.Filter
	// Parent, when set, bills the request as a sub-call of that request (an agent
	// turn's compaction, say) rather than as a request of its own.
	Parent string
	// NoReply says the caller never reads Result.Reply of a stream (the /v1
	// adapter: its client has the events), so they are not recorded.
	NoReply bool
	// OnStep, when set, sees each stack tool the loop ran, in call order, after
	// the tools of a round ran (an agent turn shows and stores them).
	OnStep func(Step)
	// Gate, when set, is passed every upstream attempt's backend before the
	// attempt and waits for its turn; release ends the turn. Batch lines use it
	// to bound how many of them one backend serves at once, so interactive
	// requests keep the rest of its capacity. It fails only when ctx ends.
	Gate func(ctx context.Context, backend string) (release func(), err error)
}

// Step is one stack tool call of a tool loop: the tool, its arguments and what
// it returned (a result, or an error the model read).
type Step struct {
	Round     int             `json:"round"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
}

// ToolPolicy says which stack tools a request is offered and how the loop runs.
// Whatever it names, a tool is offered only when the tenant's allowlist and the
// caller's role permit it.
type ToolPolicy struct {
	// None offers no stack tool.
	None bool
	// Names offers only these tools (an agent's list, the SPASS-Tools header);
	// nil offers every tool the tenant allows.
	Names []string
	// MaxRounds bounds the tool loop; 0 means the service's bound.
	MaxRounds int
	// Timeout bounds one tool execution; 0 means the service's bound.
	Timeout time.Duration
}

// ToolsHeader reads the SPASS-Tools header: "none", a comma-separated list of
// tool names, or empty (every tool the tenant allows).
func ToolsHeader(h string) ToolPolicy {
	if strings.EqualFold(strings.TrimSpace(h), "none") {
		return ToolPolicy{None: true}
	}
	var names []string
	for n := range strings.SplitSeq(h, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return ToolPolicy{Names: names}
}

// surface returns o's surface, v1 by default.
func (o *Options) surface() Surface {
	if o.Surface == "" {
		return SurfaceV1
	}
	return o.Surface
}
