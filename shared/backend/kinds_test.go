package backend_test

import (
	"net/http"
	"slices"
	"testing"

	"spass/shared/backend"
	"spass/shared/config"
)

func TestKindsMatchConfig(t *testing.T) {
	got := backend.Kinds()
	slices.Sort(got)
	want := slices.Clone(config.Kinds)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("backend kinds %v, config kinds %v", got, want)
	}
	var formats []string
	for _, f := range backend.ToolCallFormats() {
		formats = append(formats, string(f))
	}
	if !slices.Equal(formats, config.ToolCallFormats) {
		t.Fatalf("backend tool-call formats %v, config's %v", formats, config.ToolCallFormats)
	}
}

func TestToolCallFormat(t *testing.T) {
	tests := []struct {
		kind, setting string
		want          backend.ToolCallFormat
	}{
		{"vllm", "", backend.ToolCallsHermes},
		{"sglang", "", backend.ToolCallsHermes},
		{"llamacpp", "", backend.ToolCallsHermes},
		{"ollama", "", backend.ToolCallsNone},
		{"tgi", "", backend.ToolCallsNone},
		{"openai", "", backend.ToolCallsNone},
		{"simulator", "", backend.ToolCallsNone},
		{"vllm", "llama-json", backend.ToolCallsLlamaJSON},
		{"ollama", "mistral", backend.ToolCallsMistral},
		{"vllm", "none", backend.ToolCallsNone},
	}
	for _, tt := range tests {
		b, err := backend.New(config.Backend{Name: "b", Kind: tt.kind, BaseURL: "http://127.0.0.1:1", ToolCallFormat: tt.setting}, http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		if b.ToolCalls != tt.want {
			t.Errorf("%s with tool_call_format %q: %q, want %q", tt.kind, tt.setting, b.ToolCalls, tt.want)
		}
	}
	if _, err := backend.New(config.Backend{Name: "b", Kind: "vllm", BaseURL: "http://x", ToolCallFormat: "pythonic"}, http.DefaultClient); err == nil {
		t.Fatal("an unknown tool_call_format was accepted")
	}
}
