package chat

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/router"
	"spass/shared/tenantcfg"
)

// HeaderModel names the model that served a request when it is not the one
// asked for: the overflow guard sent it to a model with a larger window.
const HeaderModel = "SPASS-Model"

// Overflow guard outcomes, as counted by PolicyCounter.Overflow.
const (
	overflowRejected = "rejected"
	overflowRerouted = "rerouted"
)

// imageTokens is what the estimate counts for an image part: the floor of what
// vision models charge for one (OpenAI's low detail), so that the bytes of a
// data URL never count as text.
const imageTokens = 85

var maxKey = []byte(`"max_`)

// fit is the context-overflow guard. It returns the model that serves req: m
// when the estimated prompt plus max_tokens fits m's context window (or the
// window is unknown), else the first model of m's overflow chain that fits, when
// the tenant allows it (overflow.allow). Otherwise the request ends here with
// 400 context_length_exceeded, before any backend was asked; param names the
// request's field that holds the prompt ("messages", "input" on /v1/responses).
func (c *call) fit(m *router.Model, req *Request, param string) (*router.Model, error) {
	if m.ContextWindow <= 0 {
		return m, nil
	}
	completion := 0
	if bytes.Contains(req.Raw, maxKey) { // one fast search spares most bodies two scans
		limits := gjson.GetManyBytes(req.Raw, "max_completion_tokens", "max_tokens")
		if completion = int(limits[0].Int()); !limits[0].Exists() {
			completion = int(limits[1].Int())
		}
	}
	// Without images the estimate never exceeds a quarter of the body's bytes:
	// most requests are let through without reading the messages.
	vision := slices.Contains(req.Needs, backend.Vision)
	if !vision && len(req.Raw)/4+completion <= m.ContextWindow {
		return m, nil
	}
	prompt := PromptTokens(req.Raw)
	need := prompt + completion
	if need <= m.ContextWindow {
		return m, nil
	}
	if c.eff != nil && c.eff.Bool(tenantcfg.OverflowAllow) {
		for _, id := range m.Overflow {
			o := c.s.Router.Model(id)
			if o == nil || !o.Serves("chat") || o.ContextWindow > 0 && o.ContextWindow < need ||
				!c.eff.ModelAllowed(id) || vision && !o.Vision {
				continue
			}
			c.count(overflowRerouted)
			c.res.Model = id
			c.sink.Header()[HeaderModel] = []string{id}
			return o, nil
		}
	}
	c.count(overflowRejected)
	return nil, apierr.P(apierr.ContextLengthExceeded, param, fmt.Sprintf(
		"This model's maximum context length is %d tokens. However, you requested about %d tokens (%d in the %s, %d in the completion). Please reduce the length of the %s or completion.",
		m.ContextWindow, need, prompt, param, completion, param))
}

func (c *call) count(outcome string) {
	if c.s.Policy != nil {
		c.s.Policy.Overflow(outcome)
	}
}

// PromptTokens estimates the prompt tokens of a chat body the way the gateway's
// other budgets do (EstimateTokens: a quarter of the bytes plus 4 per message):
// the text of every message, the arguments of its tool calls, a fixed
// imageTokens per image, and the tool definitions. No tokenizer of the served
// models (Llama, Qwen, Mistral...) ships with the gateway, so this is an
// estimate: prose in English runs close to it, code and non-Latin scripts above
// it, in which case the backend's own check still refuses the request.
func PromptTokens(body []byte) int {
	n := 0
	gjson.GetBytes(body, "messages").ForEach(func(_, m gjson.Result) bool {
		size := 0
		c := m.Get("content")
		if c.IsArray() {
			c.ForEach(func(_, part gjson.Result) bool {
				if part.Get("type").Str == "image_url" {
					n += imageTokens
				} else {
					size += len(part.Get("text").Str)
				}
				return true
			})
		} else {
			size += len(c.Str)
		}
		m.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			size += len(tc.Get("function.name").Str) + len(tc.Get("function.arguments").Raw)
			return true
		})
		n += size/4 + 4
		return true
	})
	if t := gjson.GetBytes(body, "tools"); t.IsArray() {
		n += len(t.Raw) / 4
	}
	return n
}
