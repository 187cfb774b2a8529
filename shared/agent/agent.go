// Package agent holds the domain of /a1: an agent's definition (parsed strictly
// from YAML files or API bodies), its sessions, their messages and the segments
// compaction chains together. No I/O beyond parsing: the store and the /a1
// handlers share these types.
package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Name is the form of an agent's name: a slug safe in a URL path.
var Name = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Overridable lists what a session may override, when the agent allows it.
var Overridable = []string{"model", "temperature", "max_tokens", "max_rounds", "system_prompt"}

// Agent is one agent definition. Tenant is "" for a file agent shared by every
// tenant. Source is "file" or "api": file agents are read-only.
type Agent struct {
	Name             string     `yaml:"name" json:"name"`
	Tenant           string     `yaml:"tenant,omitempty" json:"tenant,omitempty"`
	Description      string     `yaml:"description,omitempty" json:"description,omitempty"`
	Model            string     `yaml:"model" json:"model"`
	SystemPrompt     string     `yaml:"system_prompt,omitempty" json:"system_prompt,omitempty"`
	Tools            []string   `yaml:"tools,omitempty" json:"tools"`
	RAGIndex         string     `yaml:"rag_index,omitempty" json:"rag_index,omitempty"`
	Temperature      *float64   `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	MaxTokens        int        `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	MaxRounds        int        `yaml:"max_rounds,omitempty" json:"max_rounds,omitempty"`
	Compaction       Compaction `yaml:"compaction,omitempty" json:"compaction"`
	SessionOverrides []string   `yaml:"session_overrides,omitempty" json:"session_overrides"`
	// A2A exposes the agent to other agents over A2A (/v1/a2a, docs/a2a.md).
	A2A    bool   `yaml:"a2a,omitempty" json:"a2a,omitempty"`
	Source string `yaml:"-" json:"source"`
}

// Compaction says when and how a session's older turns are summarized.
type Compaction struct {
	// Threshold is the share of the model's window a prompt may fill before the
	// older turns are compacted; 0 means the tenant's setting (0.8 by default).
	Threshold float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// KeepLastTurns stay verbatim after a compaction; 0 means 4.
	KeepLastTurns int `yaml:"keep_last_turns,omitempty" json:"keep_last_turns,omitempty"`
}

// Overrides are a session's own values for what its agent lets it override.
type Overrides struct {
	Model        string   `json:"model,omitempty"`
	Temperature  *float64 `json:"temperature,omitempty"`
	MaxTokens    int      `json:"max_tokens,omitempty"`
	MaxRounds    int      `json:"max_rounds,omitempty"`
	SystemPrompt string   `json:"system_prompt,omitempty"`
}

// Parse reads one agent from YAML or JSON (JSON is YAML), refusing unknown keys,
// and validates it. Errors name the key.
func Parse(b []byte) (Agent, error) {
	var a Agent
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&a); err != nil {
		return Agent{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return a, a.Validate()
}

// FieldError is a validation error naming the key at fault.
type FieldError struct {
	Key, Problem string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Problem }

// Validate checks the definition; the tools against the stack tools is the
// loader's job, which knows them.
func (a *Agent) Validate() error {
	bad := func(k, p string) error { return &FieldError{Key: k, Problem: p} }
	switch {
	case !Name.MatchString(a.Name):
		return bad("name", "must be 1-64 of a-z, 0-9, - and _, starting with a letter or digit")
	case a.Model == "":
		return bad("model", "required: the model slug the agent talks to")
	case len(a.SystemPrompt) > 32<<10:
		return bad("system_prompt", "at most 32 KiB")
	case a.Temperature != nil && (*a.Temperature < 0 || *a.Temperature > 2):
		return bad("temperature", "must be between 0 and 2")
	case a.MaxTokens < 0 || a.MaxTokens > 1<<20:
		return bad("max_tokens", "must be between 0 and 1048576")
	case a.MaxRounds < 0 || a.MaxRounds > 32:
		return bad("max_rounds", "must be between 0 and 32")
	case a.Compaction.Threshold != 0 && (a.Compaction.Threshold < 0.2 || a.Compaction.Threshold > 0.95):
		return bad("compaction.threshold", "must be between 0.2 and 0.95")
	case a.Compaction.KeepLastTurns < 0 || a.Compaction.KeepLastTurns > 50:
		return bad("compaction.keep_last_turns", "must be between 0 and 50")
	}
	for i, o := range a.SessionOverrides {
		if !slices.Contains(Overridable, o) {
			return bad(fmt.Sprintf("session_overrides[%d]", i), fmt.Sprintf("%q cannot be overridden (one of %v)", o, Overridable))
		}
	}
	for i, t := range a.Tools {
		if t == "" || slices.Contains(a.Tools[:i], t) {
			return bad(fmt.Sprintf("tools[%d]", i), "empty or listed twice")
		}
	}
	if a.Tools == nil {
		a.Tools = []string{}
	}
	if a.SessionOverrides == nil {
		a.SessionOverrides = []string{}
	}
	return nil
}

// KeepLast is how many turns stay verbatim after a compaction.
func (a *Agent) KeepLast() int {
	if a.Compaction.KeepLastTurns == 0 {
		return 4
	}
	return a.Compaction.KeepLastTurns
}

// Apply returns the agent as a session with o sees it. Overrides the agent does
// not allow are an error naming the key.
func (a Agent) Apply(o Overrides) (Agent, error) {
	set := map[string]bool{"model": o.Model != "", "temperature": o.Temperature != nil, "max_tokens": o.MaxTokens != 0,
		"max_rounds": o.MaxRounds != 0, "system_prompt": o.SystemPrompt != ""}
	for k, v := range set {
		if v && !slices.Contains(a.SessionOverrides, k) {
			return a, &FieldError{Key: k, Problem: "agent " + a.Name + " does not let a session override it"}
		}
	}
	if o.Model != "" {
		a.Model = o.Model
	}
	if o.Temperature != nil {
		a.Temperature = o.Temperature
	}
	if o.MaxTokens != 0 {
		a.MaxTokens = o.MaxTokens
	}
	if o.MaxRounds != 0 {
		a.MaxRounds = o.MaxRounds
	}
	if o.SystemPrompt != "" {
		a.SystemPrompt = o.SystemPrompt
	}
	return a, a.Validate()
}

// Overrides decodes a session's stored overrides.
func DecodeOverrides(b []byte) (Overrides, error) {
	var o Overrides
	if len(b) == 0 {
		return o, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&o); err != nil {
		return o, errors.New("overrides: " + err.Error())
	}
	return o, nil
}
