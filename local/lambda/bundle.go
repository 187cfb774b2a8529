package lambda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"spass/functions"
	"sync"
	"time"
)

// FunctionSpec ties a template.yaml function to the endpoint group it runs.
type FunctionSpec struct {
	// LogicalID names the template.yaml resource and its Makefile target
	// build-<LogicalID>.
	LogicalID string
	// Group names the functions.Groups entry whose handler functions/<Group>/bootstrap
	// serves.
	Group string
	// Streamed lists the group's routes that answer with SSE. They are served
	// through the function's Function URL (RESPONSE_STREAM), the only way a stream
	// reaches its client as it is written.
	Streamed []string
	// AlsoBuffered lists the Streamed routes that are also HttpApi events, on
	// purpose: the HTTP API buffers, so a streamed request there gets its whole SSE
	// body at the end (SDKs still read it), and a plain request its JSON. It is how
	// `sam local start-api`, which serves HTTP API routes only, reaches them. A
	// streamed route that is an HttpApi event without being listed here is an error.
	AlsoBuffered []string
}

// Functions is the bundle: every endpoint group as one Lambda function. A group
// added to functions.Groups needs a line here; the tests check it against the template
// and the Makefile.
var Functions = []FunctionSpec{
	{LogicalID: "ChatFunction", Group: "openai", Streamed: chatStreamed, AlsoBuffered: chatStreamed},
	{LogicalID: "ConversationsFunction", Group: "conversations", Streamed: []string{"POST /c1/chat"}},
	{LogicalID: "AgentsFunction", Group: "agents", Streamed: []string{"POST /a1/sessions/{id}/messages", "POST /v1/a2a/{agent}"},
		AlsoBuffered: []string{"POST /v1/a2a/{agent}"}},
	{LogicalID: "DiscoveryFunction", Group: "discovery"},
	{LogicalID: "TenantFunction", Group: "tenant"},
	{LogicalID: "AdminFunction", Group: "admin"},
	{LogicalID: "RagFunction", Group: "rag"},
	{LogicalID: "McpFunction", Group: "mcp"},
}

// chatStreamed are the /v1 routes that answer SSE when asked to stream: chat, the
// Responses API and transcriptions. Each is an HttpApi event too, buffered.
var chatStreamed = []string{"POST /v1/chat/completions", "POST /v1/responses", "POST /v1/audio/transcriptions"}

// BundleRoutes routes every group route of the dev shim to its function the way AWS
// would reach it: streamed routes and the routes the template does not declare as
// HttpApi events (see RouteKey) through the function's Function URL, the others as
// HTTP API routes.
func BundleRoutes(t *Template) ([]Route, error) {
	var routes []Route
	for _, spec := range Functions {
		fn := t.Functions[spec.LogicalID]
		if fn == nil {
			return nil, fmt.Errorf("template has no function %s", spec.LogicalID)
		}
		g, ok := group(spec.Group)
		if !ok {
			return nil, fmt.Errorf("%s: the dev shim has no group %q", spec.LogicalID, spec.Group)
		}
		for _, r := range g.Routes {
			declared := slices.Contains(fn.Routes, RouteKey(r))
			switch {
			case slices.Contains(spec.Streamed, r) || (!declared && fn.Streams()):
				if !fn.Streams() {
					return nil, fmt.Errorf("%s: %q streams, but the function has no RESPONSE_STREAM Function URL", spec.LogicalID, r)
				}
				routes = append(routes, Route{Pattern: r, Function: spec.LogicalID, URL: true})
			case declared:
				routes = append(routes, Route{Pattern: r, Function: spec.LogicalID})
			default:
				return nil, fmt.Errorf("%s: route %q of group %s is neither an HttpApi event nor behind a Function URL", spec.LogicalID, r, spec.Group)
			}
		}
	}
	return routes, nil
}

// HTTPAPIRoutes are the routes of the template's HTTP API alone, as
// `sam local start-api` and the API's own endpoint serve them: every HttpApi event of
// every function, buffered, streamed routes included where AlsoBuffered declares
// them; nothing that only a Function URL serves.
func HTTPAPIRoutes(t *Template) ([]Route, error) {
	var routes []Route
	for _, spec := range Functions {
		fn := t.Functions[spec.LogicalID]
		if fn == nil {
			return nil, fmt.Errorf("template has no function %s", spec.LogicalID)
		}
		g, ok := group(spec.Group)
		if !ok {
			return nil, fmt.Errorf("%s: the dev shim has no group %q", spec.LogicalID, spec.Group)
		}
		for _, r := range g.Routes {
			if slices.Contains(fn.Routes, RouteKey(r)) {
				routes = append(routes, Route{Pattern: r, Function: spec.LogicalID})
			}
		}
	}
	return routes, nil
}

// group finds a dev shim group by name.
func group(name string) (functions.Group, bool) {
	for _, g := range functions.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return functions.Group{}, false
}

// Build runs `make build-<LogicalId> LAMBDA_ARCH=arch` in root (the module, where
// the Makefile is) for every function into dir/<LogicalId>, and returns the
// bootstraps by LogicalId. The first build runs alone so that the packages every
// bootstrap shares (cgo SQLite above all) are compiled once, then the rest in
// parallel.
func Build(ctx context.Context, root, dir, arch string) (map[string]string, error) {
	bins := map[string]string{}
	for _, spec := range Functions {
		bins[spec.LogicalID] = BootstrapPath(dir, spec)
	}
	if _, err := BuildFunction(ctx, root, dir, arch, Functions[0]); err != nil {
		return nil, err
	}
	errs := make([]error, len(Functions))
	var wg sync.WaitGroup
	for i, spec := range Functions[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = BuildFunction(ctx, root, dir, arch, spec) }()
	}
	wg.Wait()
	return bins, errors.Join(errs...)
}

// BootstrapPath is where Build puts the bootstrap of spec under dir.
func BootstrapPath(dir string, spec FunctionSpec) string {
	return filepath.Join(dir, spec.LogicalID, "bootstrap")
}

// BuildFunction builds the one bootstrap of spec as Build does, and returns its path.
func BuildFunction(ctx context.Context, root, dir, arch string, spec FunctionSpec) (string, error) {
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", root,
		"build-"+spec.LogicalID, "ARTIFACTS_DIR="+filepath.Join(dir, spec.LogicalID), "LAMBDA_ARCH="+arch)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make build-%s: %v\n%s", spec.LogicalID, err, log.Bytes())
	}
	return BootstrapPath(dir, spec), nil
}

// BundleFunctions describes the built bootstraps to the emulator, with the
// template's timeout and memory size, all sharing env.
func BundleFunctions(t *Template, bins map[string]string, env []string) []Function {
	var fns []Function
	for _, spec := range Functions {
		f := t.Functions[spec.LogicalID]
		fn := Function{Name: spec.LogicalID, Path: bins[spec.LogicalID], Env: env}
		if f != nil {
			fn.Timeout = time.Duration(f.Int("Timeout")) * time.Second
			fn.MemoryMB = f.Int("MemorySize")
		}
		fns = append(fns, fn)
	}
	return fns
}
