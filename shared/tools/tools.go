// Package tools is the registry of server-side ("stack") tools: each has a name, a
// JSON schema for its arguments, a description the model reads, the roles that may
// run it, and an Execute function. Arguments are validated against the schema before
// anything runs; a bad argument or a failing tool comes back to the model as a tool
// error it can read and correct, never as an HTTP 500.
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"spass/shared/apierr"
	"spass/shared/identity"
)

// Call is who runs a tool and for what: the principal, the request it belongs to,
// and the agent and session when an agent turn calls it, so memory and RAG tools
// can scope what they read and write to that agent.
type Call struct {
	identity.Principal
	RequestID string
	Surface   string // v1, c1, a1, batch
	Ref       string // the conversation, session or batch id, for sub-call ledger rows
	Agent     string
	Session   string
}

// Tool is one server-side tool.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON schema of the arguments object.
	Parameters json.RawMessage
	// Roles that may run the tool; empty means every role.
	Roles []string
	// Execute runs the tool on validated arguments and returns a JSON-encodable
	// result. Return *Error for failures the model should see and may fix.
	Execute func(ctx context.Context, p Call, args json.RawMessage) (any, error)
	// Available, when set, says whether the tool loop may offer the tool to this
	// call at all: a tool that can only fail (rag_query for a tenant without an
	// index) must not be offered. It runs on every chat request that passes the
	// other checks, so it must be cheap (cached). Run does not consult it: a
	// direct run explains itself with the tool's own error.
	Available func(ctx context.Context, p Call) bool

	schema *jsonschema.Schema
	def    json.RawMessage
}

// Definition is the tool in OpenAI's tools[] shape, encoded once at Add because the
// tool loop injects it into every chat request.
func (t *Tool) Definition() json.RawMessage { return t.def }

// Error is a tool failure reported to the model (and to /v1/tools/execute callers).
type Error struct {
	Code    string `json:"code"` // invalid_arguments, not_permitted, tool_failed, ...
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a tool error. The message is clipped like an API error's: it may
// quote the arguments, and it goes back to the model and to /v1/tools/execute.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: apierr.Clip(fmt.Sprintf(format, args...), apierr.MaxMessage)}
}

// Registry holds the tools; it is read-only after setup and safe for concurrent use.
type Registry struct {
	tools  map[string]*Tool
	sorted []*Tool // by name, kept at Add: List runs on every chat request

	mu         sync.RWMutex
	selections map[string]*Selection // by the List indices they hold, see Select

	external External // tools known only at run time (MCP servers), see SetExternal
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{tools: map[string]*Tool{}, selections: map[string]*Selection{}}
}

// Add compiles t's schema and registers it; a name may be added once.
func (r *Registry) Add(t Tool) error {
	if _, dup := r.tools[t.Name]; dup {
		return fmt.Errorf("tools: %s added twice", t.Name)
	}
	pt, err := Prepare(t)
	if err != nil {
		return err
	}
	r.tools[t.Name] = pt
	i, _ := slices.BinarySearchFunc(r.sorted, t.Name, func(x *Tool, name string) int { return strings.Compare(x.Name, name) })
	r.sorted = slices.Insert(r.sorted, i, pt)
	return nil
}

// Prepare compiles t's schema and encodes its definition: what Add does, for
// tools that live outside the registry (see External).
func Prepare(t Tool) (*Tool, error) {
	if t.Name == "" || t.Execute == nil {
		return nil, errors.New("tools: a tool needs a name and an Execute function")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(t.Parameters))
	if err != nil {
		return nil, fmt.Errorf("tools: %s: schema: %w", t.Name, err)
	}
	c := jsonschema.NewCompiler()
	url := "tool://" + t.Name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("tools: %s: schema: %w", t.Name, err)
	}
	if t.schema, err = c.Compile(url); err != nil {
		return nil, fmt.Errorf("tools: %s: schema: %w", t.Name, err)
	}
	t.def, err = json.Marshal(map[string]any{"type": "function", "function": map[string]any{
		"name": t.Name, "description": t.Description, "parameters": t.Parameters}})
	if err != nil {
		return nil, fmt.Errorf("tools: %s: %w", t.Name, err)
	}
	return &t, nil
}

// Get returns the named tool.
func (r *Registry) Get(name string) (*Tool, bool) {
	t, ok := r.tools[name]
	return t, ok
}

// List returns every tool sorted by name. The slice is the registry's own: callers
// must not modify it.
func (r *Registry) List() []*Tool { return r.sorted }

// Permits reports whether p's role may run t.
func (t *Tool) Permits(p identity.Principal) bool {
	return len(t.Roles) == 0 || slices.Contains(t.Roles, p.Role)
}

// Run validates args and executes the named tool. The error is always an *Error.
func (r *Registry) Run(ctx context.Context, p Call, name string, args json.RawMessage) (any, error) {
	t, ok := r.tools[name]
	if !ok && r.external != nil {
		t, ok = r.external.Tool(ctx, p, name)
	}
	if !ok {
		return nil, Errorf("unknown_tool", "no tool named %q", name)
	}
	if !t.Permits(p.Principal) {
		return nil, Errorf("not_permitted", "your role may not run %s", name)
	}
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage(`{}`)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return nil, Errorf("invalid_arguments", "arguments are not valid JSON: %v", err)
	}
	if err := t.schema.Validate(v); err != nil {
		return nil, Errorf("invalid_arguments", "%s", schemaMessage(err))
	}
	out, err := t.Execute(ctx, p, args)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return nil, te
		}
		if ctx.Err() != nil {
			return nil, Errorf("tool_timeout", "%s did not finish in time", name)
		}
		return nil, Errorf("tool_failed", "%s failed", name)
	}
	return out, nil
}

var english = message.NewPrinter(language.English)

// schemaMessage flattens a validation error into one line the model can act on.
func schemaMessage(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + joinPath(e.InstanceLocation)
			leaves = append(leaves, fmt.Sprintf("at %s: %s", loc, e.ErrorKind.LocalizedString(english)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	out := ""
	for i, l := range leaves {
		if i > 0 {
			out += "; "
		}
		out += l
	}
	return out
}

func joinPath(p []string) string {
	out := ""
	for i, s := range p {
		if i > 0 {
			out += "/"
		}
		out += s
	}
	return out
}
