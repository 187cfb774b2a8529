package mcpclient

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"spass/shared/tools"
)

// maxName is the longest function name OpenAI-compatible backends accept.
const maxName = 64

// emptySchema stands in for a tool's input schema the gateway cannot compile.
var emptySchema = json.RawMessage(`{"type":"object"}`)

// convert turns a listing into namespaced stack-style tools. Tool names are made
// safe for OpenAI function names ([A-Za-z0-9_-], at most 64); a name that then
// collides with an earlier one is left out.
func (s *server) convert(listed []*mcp.Tool) ([]*tools.Tool, map[string]*tools.Tool, map[string]string) {
	var out []*tools.Tool
	byName, orig := map[string]*tools.Tool{}, map[string]string{}
	for _, mt := range listed {
		if len(s.cfg.Tools) > 0 && !slices.Contains(s.cfg.Tools, mt.Name) {
			continue
		}
		name := Name(s.cfg.Name, mt.Name)
		if _, dup := byName[name]; dup {
			continue
		}
		params, err := json.Marshal(mt.InputSchema)
		if err != nil || mt.InputSchema == nil {
			params = emptySchema
		}
		desc := mt.Description
		if desc == "" {
			desc = mt.Title
		}
		t := tools.Tool{Name: name, Description: desc, Parameters: params, Roles: roles(s.cfg), Execute: s.executor(name)}
		pt, err := tools.Prepare(t)
		if err != nil { // a schema the validator cannot compile: the server checks its own arguments
			t.Parameters = emptySchema
			if pt, err = tools.Prepare(t); err != nil {
				slog.Warn("mcp: tool left out", "server", s.cfg.Name, "tool", mt.Name, "err", err)
				continue
			}
		}
		out = append(out, pt)
		byName[name], orig[name] = pt, mt.Name
	}
	return out, byName, orig
}

func (s *server) executor(name string) func(context.Context, tools.Call, json.RawMessage) (any, error) {
	return func(ctx context.Context, _ tools.Call, args json.RawMessage) (any, error) {
		return s.call(ctx, name, args)
	}
}

// Name is the name the model sees for a server's tool: <server>__<tool>, with
// characters OpenAI does not allow in function names replaced by '_'.
func Name(server, tool string) string {
	var b strings.Builder
	b.WriteString(server)
	b.WriteString(Separator)
	for _, r := range tool {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	n := b.String()
	if len(n) > maxName {
		n = n[:maxName]
	}
	return n
}
