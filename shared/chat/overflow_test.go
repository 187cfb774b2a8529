package chat

import (
	"strings"
	"testing"
)

func TestPromptTokens(t *testing.T) {
	image := `{"type":"image_url","image_url":{"url":"data:image/png;base64,` + strings.Repeat("A", 40000) + `"}}`
	tests := []struct {
		name, body string
		want       int
	}{
		{"one short message", `{"messages":[{"role":"user","content":"Hello"}]}`, 5},
		{"text counts a quarter of its bytes", `{"messages":[{"role":"user","content":"` + strings.Repeat("a", 400) + `"}]}`, 104},
		{"an image counts a fixed amount, not its bytes", `{"messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},` + image + `]}]}`, 2 + 4 + imageTokens},
		{"tool calls and tools", `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f","arguments":"{\"a\":1234567}"}}]}],` +
			`"tools":[{"type":"function","function":{"name":"f"}}]}`, (1+len(`"{\"a\":1234567}"`))/4 + 4 + len(`[{"type":"function","function":{"name":"f"}}]`)/4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PromptTokens([]byte(tt.body)); got != tt.want {
				t.Fatalf("PromptTokens = %d, want %d", got, tt.want)
			}
		})
	}
}
