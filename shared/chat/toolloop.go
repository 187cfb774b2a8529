package chat

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/router"
	"spass/shared/tenantcfg"
	"spass/shared/tools"
)

// HeaderTools lets a request choose the stack tools: "none", or a comma-separated
// list of tool names (default: every tool the tenant allows).
const HeaderTools = "SPASS-Tools"

// toolCall is one assembled tool call of a model turn.
type toolCall struct {
	ID, Name string
	Args     strings.Builder
}

// loop is the state of one request's tool loop.
type loop struct {
	req     *Request
	stack   *tools.Selection
	extra   [][]byte // messages the loop appended: assistant turns and tool results
	total   Usage    // usage of every round, reported to the client
	offered []string // names of the tools offered, read when first needed
	c       *call    // redacts the body of a cloud attempt (see outbound)
}

// names returns the names of the tools the model is offered: the caller's, then
// the stack tools'.
func (l *loop) names() []string {
	if l.offered == nil {
		l.offered = toolNames(gjson.Get(view(l.req.Raw), "tools"))
		for i, n := range l.offered {
			l.offered[i] = strings.Clone(n) // not a view of the body
		}
		for _, t := range l.stack.Tools {
			l.offered = append(l.offered, t.Name)
		}
	}
	return l.offered
}

// stackTools picks the stack tools to inject: allowed by the tenant's allowlist and
// the caller's role, not shadowed by a caller tool of the same name, and not opted
// out with tool_choice "none", a forced caller function or the SPASS-Tools header.
// The body is read only when some tool passes the tenant and role checks, and the
// result is a shared selection: a chat without stack tools pays nearly nothing.
func (s *Service) stackTools(c *call, req *Request) *tools.Selection {
	pol := &c.opts.Tools
	if s.Tools == nil || c.eff == nil || pol.None {
		return nil
	}
	var buf [32]uint16
	picked := buf[:0]
	var callerNames gjson.Result
	parsed, off := false, false
	offer := func(t *tools.Tool) bool {
		if !c.eff.Listed(tenantcfg.ToolAllowlist, t.Name) || !t.Permits(c.p) || pol.Names != nil && !slices.Contains(pol.Names, t.Name) {
			return false
		}
		if !parsed {
			parsed = true
			choice := gjson.GetBytes(req.Raw, "tool_choice")
			callerNames = gjson.GetBytes(req.Raw, "tools.#.function.name")
			off = choice.Str == "none" || hasName(callerNames, choice.Get("function.name").Str)
		}
		return !off && !hasName(callerNames, t.Name) && s.available(c, t)
	}
	for i, t := range s.Tools.List() {
		if offer(t) {
			picked = append(picked, uint16(i))
		} else if off {
			return nil
		}
	}
	var sel *tools.Selection
	if len(picked) > 0 {
		sel = s.Tools.Select(picked)
	}
	var extra []*tools.Tool // tools of MCP servers (tools.External)
	for _, t := range s.Tools.ExternalTools(c.ctx, c.toolCall()) {
		if offer(t) {
			extra = append(extra, t)
		} else if off {
			return nil
		}
	}
	return tools.Extend(sel, extra)
}

// available asks a tool with an Available check whether it can serve this call.
func (s *Service) available(c *call, t *tools.Tool) bool {
	return t.Available == nil || t.Available(c.ctx, c.toolCall())
}

// hasName reports whether the array of names holds name.
func hasName(names gjson.Result, name string) bool {
	found := false
	names.ForEach(func(_, n gjson.Result) bool {
		found = n.Str == name
		return !found
	})
	return found
}

// toolLoop runs model turns until one calls no stack tool, executing the stack tools
// server-side in between. Every turn that ran tools is billed as a sub-call; the
// final turn is the request's own ledger row.
func (c *call) toolLoop(ctx context.Context, m *router.Model, req *Request, stack *tools.Selection) error {
	l := &loop{req: req, stack: stack, c: c}
	needs := req.Needs
	if !slices.Contains(needs, backend.Tools) {
		needs = append(append([]backend.Capability(nil), needs...), backend.Tools)
	}
	if req.Stream {
		return c.toolStream(ctx, m, l, needs)
	}
	for round := 1; ; round++ {
		var out []byte
		var served router.Target
		err := c.routed(ctx, m, needs, func(ctx context.Context, t router.Target) error {
			body, err := l.body(t, false)
			if err != nil {
				return err
			}
			served = t
			out, err = c.fetch(ctx, t, "/chat/completions", body)
			return err
		})
		if err != nil {
			return err
		}
		out = fixAnswer(c.withSlug(out), formatOf(served), l.names)
		u := parseUsage(gjson.GetBytes(out, "usage"))
		l.total = l.total.Plus(u)
		c.res.Usage = l.total
		msg := gjson.GetBytes(out, "choices.0.message")
		calls := callsOf(msg.Get("tool_calls"))
		stackCalls := l.stackCalls(calls)
		if len(stackCalls) == 0 {
			c.own = u
			if round > 1 {
				out = withUsage(out, "usage", l.total)
			} else if c.cacheKey != "" { // no tool ran, so the answer depends on the body alone
				c.s.Cache.Put(context.WithoutCancel(ctx), c.cacheKey, out, c.cacheTTL)
			}
			c.res.answer = out
			c.finish(http.StatusOK)
			c.deliver(served, out)
			return nil
		}
		if err := c.nextRound(ctx, l, round, u, msg.Get("content").Str, stackCalls); err != nil {
			return err
		}
	}
}

// nextRound bills a tool round, checks the round limit and runs the stack tools.
func (c *call) nextRound(ctx context.Context, l *loop, round int, u Usage, content string, calls []*toolCall) error {
	if limit := cmp.Or(c.opts.Tools.MaxRounds, c.s.MaxRounds); round > limit {
		c.own = u
		return apierr.E(apierr.ToolRoundLimit, fmt.Sprintf("The model still called server-side tools after %d rounds.", limit), nil)
	}
	c.billRound(round, u)
	content = c.restoreTurn(content, calls)
	l.extra = append(l.extra, assistantTurn(content, calls))
	l.extra = append(l.extra, c.runTools(ctx, round, calls)...)
	return nil
}

// stackCalls returns the calls of stack tools. In a turn that mixes stack and caller
// tools, the caller's calls are dropped: the stack results go back to the model,
// which re-issues the caller's call in a later turn that reaches the client.
func (l *loop) stackCalls(calls []*toolCall) []*toolCall {
	var out []*toolCall
	for _, tc := range calls {
		if l.stack.Has(tc.Name) {
			out = append(out, tc)
		}
	}
	return out
}

// body builds a round's upstream request from the client's body: model, stream,
// stream_options, messages (with what the loop appended) and tools (the caller's,
// then the stack tools' definitions) are spliced into one copy of it. The stack
// tools' bytes are the selection's, encoded once; nothing is re-encoded here.
func (l *loop) body(t router.Target, stream bool) ([]byte, error) {
	keys := []string{"stream", "stream_options", "tools"}
	if len(l.extra) > 0 {
		keys = append(keys, "messages")
	}
	if t.Model != l.req.Model {
		keys = append(keys, "model")
	}
	grow := len(l.stack.Definitions()) + 64 + len(t.Model)
	for _, m := range l.extra {
		grow += len(m) + 1
	}
	b := splice(l.req.Raw, keys, grow, func(key string, old gjson.Result, dst []byte) ([]byte, bool) {
		switch key {
		case "stream":
			return strconv.AppendBool(dst, stream), true
		case "stream_options":
			return withIncludeUsage(dst, old), stream
		case "tools":
			return l.appendTools(dst, old), true
		case "messages":
			return l.appendMessages(dst, old), true
		}
		return appendJSONString(dst, t.Model), true
	})
	return l.c.outbound(t, b)
}

// appendTools appends the tools[] array: the caller's tools, then the stack
// tools' definitions (joined by commas, see tools.Selection).
func (l *loop) appendTools(dst []byte, caller gjson.Result) []byte {
	dst = append(dst, '[')
	if inner := arrayInner(caller); len(inner) > 0 {
		dst = append(dst, inner...)
		if len(l.stack.Definitions()) > 0 {
			dst = append(dst, ',')
		}
	}
	dst = append(dst, l.stack.Definitions()...)
	return append(dst, ']')
}

// appendMessages appends the client's messages followed by what the loop appended.
func (l *loop) appendMessages(dst []byte, msgs gjson.Result) []byte {
	dst = append(dst, '[')
	inner := arrayInner(msgs)
	dst = append(dst, inner...)
	for i, m := range l.extra {
		if i > 0 || len(inner) > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m...)
	}
	return append(dst, ']')
}

// arrayInner returns what is between the brackets of a JSON array, trimmed; empty
// for an empty array or a value that is none.
func arrayInner(arr gjson.Result) string {
	if !arr.IsArray() {
		return ""
	}
	raw := strings.TrimSpace(arr.Raw)
	return strings.TrimSpace(raw[1 : len(raw)-1])
}

// runTools executes the calls concurrently, each bounded by the tool timeout, and
// returns the tool messages in call order. Failures become tool errors the model
// reads. OnStep, if set, then sees each call in order.
func (c *call) runTools(ctx context.Context, round int, calls []*toolCall) [][]byte {
	out := make([][]byte, len(calls))
	results := make([][]byte, len(calls))
	who := c.toolCall()
	timeout := cmp.Or(c.opts.Tools.Timeout, c.s.ToolTimeout)
	var wg sync.WaitGroup
	for i, tc := range calls {
		wg.Go(func() {
			tctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			res, err := c.s.Tools.Run(tctx, who, tc.Name, json.RawMessage(tc.Args.String()))
			if err != nil {
				res = map[string]any{"error": err}
			}
			results[i], _ = json.Marshal(res)
			out[i], _ = json.Marshal(map[string]string{"role": "tool", "tool_call_id": tc.ID, "content": string(results[i])})
		})
	}
	wg.Wait()
	if c.opts.OnStep != nil {
		for i, tc := range calls {
			args := json.RawMessage(tc.Args.String())
			if !json.Valid(args) {
				args, _ = json.Marshal(tc.Args.String())
			}
			c.opts.OnStep(Step{Round: round, Tool: tc.Name, Arguments: args, Result: results[i]})
		}
	}
	return out
}

// toolCall is who runs the request's tools.
func (c *call) toolCall() tools.Call {
	return tools.Call{Principal: c.p, RequestID: c.res.RequestID, Surface: string(c.opts.surface()), Ref: c.opts.Ref, Agent: c.opts.Agent, Session: c.opts.Session}
}

// billRound writes a tool round's ledger row, linked to the request.
func (c *call) billRound(round int, u Usage) {
	if c.s.Billing == nil {
		return
	}
	parent := c.res.RequestID
	e := c.entry("chat.tool_round", u)
	e.RequestID, e.ParentRequestID, e.Status = fmt.Sprintf("%s-r%d", parent, round), parent, http.StatusOK
	if err := c.s.Billing.Bill(context.WithoutCancel(c.ctx), e); err != nil {
		slog.Error("billing a tool round failed", "request_id", parent, "err", err)
	}
}

func assistantTurn(content string, calls []*toolCall) []byte {
	type fn struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type tc struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function fn     `json:"function"`
	}
	msg := struct {
		Role      string  `json:"role"`
		Content   *string `json:"content"`
		ToolCalls []tc    `json:"tool_calls"`
	}{Role: "assistant"}
	if content != "" {
		msg.Content = &content
	}
	for _, c := range calls {
		args := c.Args.String()
		if args == "" {
			args = "{}"
		}
		msg.ToolCalls = append(msg.ToolCalls, tc{ID: c.ID, Type: "function", Function: fn{Name: c.Name, Arguments: args}})
	}
	b, _ := json.Marshal(msg)
	return b
}

// callsOf reads a non-streamed message's tool_calls; object-typed arguments (some
// backends send them) are kept as their JSON text.
func callsOf(arr gjson.Result) []*toolCall {
	var out []*toolCall
	arr.ForEach(func(_, v gjson.Result) bool {
		tc := &toolCall{ID: v.Get("id").Str, Name: v.Get("function.name").Str}
		if a := v.Get("function.arguments"); a.Type == gjson.String {
			tc.Args.WriteString(a.Str)
		} else {
			tc.Args.WriteString(a.Raw)
		}
		out = append(out, tc)
		return true
	})
	return out
}

// withUsage replaces the usage object at path with the loop's total.
func withUsage(b []byte, path string, u Usage) []byte {
	for k, v := range map[string]int64{"prompt_tokens": u.Prompt, "completion_tokens": u.Completion, "total_tokens": u.Prompt + u.Completion} {
		if nb, err := sjson.SetBytes(b, path+"."+k, v); err == nil {
			b = nb
		}
	}
	return b
}
