package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"spass/shared/config"
	"spass/shared/tools"
)

// server is one configured MCP server: its session, kept open between calls, and
// its last tool listing. A server that fails to connect, list or answer a call is
// marked down and skipped until its next check, one refresh period later.
type server struct {
	cfg     config.MCPServer
	tenant  string // "" for a server of every tenant
	getenv  func(string) string
	client  *mcp.Client
	timeout time.Duration // one tool call
	refresh time.Duration
	calls   func(server, outcome string)

	mu        sync.Mutex
	session   *mcp.ClientSession
	tools     []*tools.Tool
	byName    map[string]*tools.Tool
	original  map[string]string // namespaced name -> the server's own name
	up        bool
	reason    string // why it is down, in generic words (no URL, no header)
	checkedAt time.Time
	inflight  chan struct{} // closed when the running check ends
}

// transport returns the server's MCP transport: Streamable HTTP with its headers,
// or a stdio process with a bare environment (the gateway's own secrets stay out).
func (s *server) transport() mcp.Transport {
	if s.cfg.URL != "" {
		h := http.Header{}
		for k, v := range s.cfg.Headers {
			h.Set(k, config.Expand(v, s.getenv))
		}
		return &mcp.StreamableClientTransport{Endpoint: s.cfg.URL, MaxRetries: -1, DisableStandaloneSSE: true,
			HTTPClient: &http.Client{Transport: headerTransport{h, http.DefaultTransport}}}
	}
	cmd := exec.Command(s.cfg.Command, s.cfg.Args...)
	for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
		if v := s.getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range s.cfg.Env {
		cmd.Env = append(cmd.Env, k+"="+config.Expand(v, s.getenv))
	}
	return &mcp.CommandTransport{Command: cmd, TerminateDuration: time.Second}
}

// headerTransport adds the server's configured headers to every request.
type headerTransport struct {
	h    http.Header
	base http.RoundTripper
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header[k] = v
	}
	return t.base.RoundTrip(r)
}

// list returns the server's tools, checking it first when its listing is older
// than the refresh period. Only the first check of a server makes a caller wait
// (bounded by wait); later ones run in the background while the old listing serves.
func (s *server) list(ctx context.Context, wait time.Duration) []*tools.Tool {
	s.mu.Lock()
	if time.Since(s.checkedAt) < s.refresh {
		defer s.mu.Unlock()
		return s.tools
	}
	ch := s.inflight
	if ch == nil {
		ch = make(chan struct{})
		s.inflight = ch
		go s.check(ch)
	}
	first := s.checkedAt.IsZero()
	s.mu.Unlock()
	if first {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ch:
		case <-ctx.Done():
		case <-t.C:
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tools
}

// check connects when needed and lists the server's tools.
func (s *server) check(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), max(s.timeout, 5*time.Second))
	defer cancel()
	ts, byName, orig, reason, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkedAt, s.inflight = time.Now(), nil
	close(done)
	if err != nil {
		s.markDown(reason, err)
		return
	}
	if !s.up {
		slog.Info("mcp: server up", "server", s.cfg.Name, "tenant", s.tenant, "tools", len(ts))
	}
	s.up, s.reason, s.tools, s.byName, s.original = true, "", ts, byName, orig
}

// fetch lists the tools over the open session, opening one first.
func (s *server) fetch(ctx context.Context) ([]*tools.Tool, map[string]*tools.Tool, map[string]string, string, error) {
	cs, err := s.connect(ctx)
	if err != nil {
		return nil, nil, nil, "connect_failed", err
	}
	var listed []*mcp.Tool
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, nil, nil, "list_failed", err
		}
		listed = append(listed, t)
	}
	ts, byName, orig := s.convert(listed)
	return ts, byName, orig, "", nil
}

// connect returns the open session or opens one.
func (s *server) connect(ctx context.Context) (*mcp.ClientSession, error) {
	s.mu.Lock()
	cs := s.session
	s.mu.Unlock()
	if cs != nil {
		return cs, nil
	}
	cs, err := s.client.Connect(ctx, s.transport(), nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session != nil { // another check won the race
		go cs.Close()
		return s.session, nil
	}
	s.session = cs
	return cs, nil
}

// markDown records a failure: the listing is dropped, so the tool loop stops
// offering the server's tools until a check finds it again. Called with mu held.
func (s *server) markDown(reason string, err error) {
	if s.up || s.reason == "" {
		slog.Warn("mcp: server down", "server", s.cfg.Name, "tenant", s.tenant, "reason", reason, "err", err)
	}
	s.up, s.reason, s.tools, s.byName, s.checkedAt = false, reason, nil, nil, time.Now()
	if s.session != nil {
		go s.session.Close()
		s.session = nil
	}
}

// lookup returns the server's tool by its namespaced name.
func (s *server) lookup(ctx context.Context, name string, wait time.Duration) (*tools.Tool, bool) {
	s.list(ctx, wait)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byName[name]
	return t, ok
}

// call runs one tool. A tool that reports an error (isError) or a JSON-RPC error
// goes back to the model as a tool error; a server that does not answer is also
// marked down, so the next request no longer offers its tools.
func (s *server) call(ctx context.Context, name string, args json.RawMessage) (any, error) {
	s.mu.Lock()
	cs, orig := s.session, s.original[name]
	s.mu.Unlock()
	if cs == nil || orig == "" {
		s.calls(s.cfg.Name, "unavailable")
		return nil, tools.Errorf("tool_unavailable", "the MCP server %s is not reachable now", s.cfg.Name)
	}
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: orig, Arguments: args})
	var rpc *jsonrpc.Error
	switch {
	case err == nil && res.IsError:
		s.calls(s.cfg.Name, "tool_error")
		return nil, tools.Errorf("tool_failed", "%s", text(res.Content))
	case err == nil:
		s.calls(s.cfg.Name, "ok")
		return result(res), nil
	case errors.As(err, &rpc) && (rpc.Code < -32099 || rpc.Code > -32000): // not the transport's own range
		s.calls(s.cfg.Name, "tool_error")
		return nil, tools.Errorf("tool_failed", "%s", rpc.Message)
	case ctx.Err() != nil:
		s.calls(s.cfg.Name, "timeout")
		return nil, tools.Errorf("tool_timeout", "%s did not finish in time", name)
	}
	s.calls(s.cfg.Name, "unavailable")
	s.mu.Lock()
	if s.session == cs {
		s.markDown("call_failed", err)
	}
	s.mu.Unlock()
	return nil, tools.Errorf("tool_unavailable", "the MCP server %s did not answer", s.cfg.Name)
}

// result is what the model reads of a successful call: the structured content
// when the tool gives one, else its text.
func result(res *mcp.CallToolResult) any {
	if res.StructuredContent != nil {
		return res.StructuredContent
	}
	return map[string]string{"content": text(res.Content)}
}

// text joins a result's text parts; other parts are named by their kind.
func text(cs []mcp.Content) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch c := c.(type) {
		case *mcp.TextContent:
			b.WriteString(c.Text)
		case *mcp.ImageContent:
			b.WriteString("[image " + c.MIMEType + "]")
		case *mcp.AudioContent:
			b.WriteString("[audio " + c.MIMEType + "]")
		case *mcp.ResourceLink:
			b.WriteString("[resource " + c.URI + "]")
		case *mcp.EmbeddedResource:
			if c.Resource != nil {
				b.WriteString(c.Resource.Text)
			}
		}
	}
	return b.String()
}

// close ends the session (and a stdio server's process).
func (s *server) close() {
	s.mu.Lock()
	cs := s.session
	s.session = nil
	s.mu.Unlock()
	if cs != nil {
		cs.Close()
	}
}
