package relay

import (
	"testing"

	"github.com/tidwall/gjson"

	"spass/shared/billing"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      billing.Tokens
		ok        bool
	}{
		{"chat names, cached tokens", `{"prompt_tokens":12,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4}}`, billing.Tokens{Prompt: 12, Completion: 5, Cached: 4}, true},
		{"responses names", `{"input_tokens":7,"output_tokens":3}`, billing.Tokens{Prompt: 7, Completion: 3}, true},
		{"chat names win", `{"prompt_tokens":2,"input_tokens":9}`, billing.Tokens{Prompt: 2}, true},
		{"total alone is no usage", `{"total_tokens":8}`, billing.Tokens{}, false},
		{"not an object", `17`, billing.Tokens{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Usage(gjson.Parse(tc.doc))
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
