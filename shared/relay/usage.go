package relay

import (
	"github.com/tidwall/gjson"

	"spass/shared/billing"
)

// Usage reads an OpenAI-style usage object of a relayed answer: chat's
// prompt_tokens and completion_tokens (with the cached prompt tokens), else the
// audio and Responses APIs' input_tokens and output_tokens. ok is false when it
// holds no tokens.
func Usage(u gjson.Result) (t billing.Tokens, ok bool) {
	if !u.IsObject() {
		return billing.Tokens{}, false
	}
	t = billing.Tokens{Prompt: u.Get("prompt_tokens").Int(), Completion: u.Get("completion_tokens").Int(),
		Cached: u.Get("prompt_tokens_details.cached_tokens").Int()}
	if t.Prompt == 0 && t.Completion == 0 {
		t.Prompt, t.Completion = u.Get("input_tokens").Int(), u.Get("output_tokens").Int()
	}
	return t, t.Prompt > 0 || t.Completion > 0
}
