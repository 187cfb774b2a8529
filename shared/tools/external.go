package tools

import (
	"bytes"
	"context"
)

// External is a source of tools known only at run time: the tools of MCP servers
// (shared/mcpclient). Which of them a call sees depends on its tenant and on which
// servers answer, so they cannot be added to the registry at setup; the registry
// asks the source instead, and the tool loop, /v1/tools and Run treat what it
// returns like stack tools (same allowlist, roles, timeouts and billing).
type External interface {
	// Tools returns the tools c's tenant may be offered now, from the servers that
	// answer; a server that is down is left out. It runs on every chat request, so
	// it must be cheap (cached listings).
	Tools(ctx context.Context, c Call) []*Tool
	// Tool returns the named tool when c's tenant has it.
	Tool(ctx context.Context, c Call, name string) (*Tool, bool)
	// Known reports whether name may be the name of an external tool of some
	// tenant (its namespace is a configured server): an agent may list it.
	Known(name string) bool
}

// SetExternal makes the registry consult e for tools it does not hold. Call it at
// setup, before the registry is shared.
func (r *Registry) SetExternal(e External) { r.external = e }

// ExternalTools returns the external tools c's tenant may be offered, or nil.
func (r *Registry) ExternalTools(ctx context.Context, c Call) []*Tool {
	if r.external == nil {
		return nil
	}
	return r.external.Tools(ctx, c)
}

// Known reports whether name is a stack tool or may be an external one.
func (r *Registry) Known(name string) bool {
	if _, ok := r.tools[name]; ok {
		return true
	}
	return r.external != nil && r.external.Known(name)
}

// Extend returns sel with the tools of extra appended, as a new selection that is
// not cached (external tools come and go with their servers). It returns sel when
// extra is empty.
func Extend(sel *Selection, extra []*Tool) *Selection {
	if len(extra) == 0 {
		return sel
	}
	out := &Selection{}
	var defs [][]byte
	if sel != nil {
		out.Tools = append(out.Tools, sel.Tools...)
		if len(sel.defs) > 0 {
			defs = append(defs, sel.defs)
		}
	}
	for _, t := range extra {
		out.Tools = append(out.Tools, t)
		defs = append(defs, t.def)
	}
	out.defs = bytes.Join(defs, []byte{','})
	return out
}
