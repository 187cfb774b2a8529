// Package bench measures the latency and CPU the gateway adds over its upstream:
// it runs the simulator and the gateway in one process on real loopback listeners
// and sends the same open-loop load straight to the simulator and through the
// gateway. `make bench` (local/cmd/bench) prints the comparison; the Go benchmarks
// in this package profile the gateway's request path.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"spass/functions"
	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/config"
)

// Token is the bearer token of the benchmark tenant; the gateway knows only its
// SHA-256, as in a real gateway.yaml.
const Token = "sk-bench-tenant"

// User is the SPASS-User-Id every benchmark request carries.
const User = "bench"

// Model is the model every benchmark request names.
const Model = "sim-chat"

// Env is a simulator and one or more gateways routing Model to it, each on its
// own loopback HTTP server in this process.
type Env struct {
	SimURL     string // the simulator's base URL, without /v1
	GatewayURL string // the first gateway's base URL, without /v1
	Sim        *simulator.Server
	// Upstream is the simulator's handler as served: it stamps when each
	// request's answer ended.
	Upstream *Stamper
	App      *app.App // the first gateway

	apps    []*app.App
	servers []*http.Server
	dir     string
}

// GatewaySetup configures one gateway under test.
type GatewaySetup struct {
	// YAML is appended to the generated gateway.yaml (top-level keys other than
	// backends, models, tenants and routing), e.g. "billing: {disabled: true}" to
	// see what the ledger costs.
	YAML string
	// StackTools keeps the tenant default of injecting every stack tool into each
	// chat; without it the benchmark tenant's tools.allowlist is empty, so the
	// upstream receives the client's request as sent.
	StackTools bool
}

// Start serves a simulator configured by sim and a gateway gw in front of it.
func Start(ctx context.Context, sim simulator.Options, gw GatewaySetup) (e *Env, err error) {
	e = &Env{Sim: simulator.New(sim)}
	e.Upstream = NewStamper(e.Sim)
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.SimURL, err = e.serve(e.Upstream); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	if e.dir, err = os.MkdirTemp("", "spass-bench-"); err != nil {
		return nil, err
	}
	if e.GatewayURL, err = e.AddGateway(ctx, gw); err != nil {
		return nil, err
	}
	e.App = e.apps[0]
	return e, nil
}

// AddGateway serves one more gateway in front of the same simulator, with its own
// data directory, and returns its base URL.
func (e *Env) AddGateway(ctx context.Context, gw GatewaySetup) (string, error) {
	dir := filepath.Join(e.dir, fmt.Sprint("gateway", len(e.apps)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	cfg, err := loadConfig(dir, e.SimURL, gw)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("gateway: %w", err)
	}
	// The request lines are formatted as in production (JSON) but not written: the
	// report stays readable, and the cost measured is the gateway's, not a terminal's.
	a.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	e.apps = append(e.apps, a)
	url, err := e.serve(functions.Handler(a))
	if err != nil {
		return "", fmt.Errorf("gateway: %w", err)
	}
	return url, nil
}

// AddBareProxy serves a bare httputil.ReverseProxy in front of the simulator, the
// floor any proxy pays on this machine and in this process: the report shows it
// beside the gateway for reference.
func (e *Env) AddBareProxy() (string, error) {
	u, err := url.Parse(e.SimURL)
	if err != nil {
		return "", err
	}
	return e.serve(bareProxy(u))
}

// bareProxy is httputil.ReverseProxy to u with the gateway's upstream transport.
// Like the gateway, it keeps the request body readable once it has flushed the
// response's headers: without, Go's server closes the body at the first flush
// and the proxy cuts a stream now and then (golang/go#40747).
func bareProxy(u *url.URL) http.Handler {
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1 // flush every write, as an SSE relay must
	p.Transport = backend.NewHTTPClient().Transport
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		p.ServeHTTP(w, r)
	})
}

// Close stops the servers and removes the gateways' data directories.
func (e *Env) Close() {
	for _, s := range e.servers {
		s.Close()
	}
	for _, a := range e.apps {
		a.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// serve runs h on a free loopback port and returns its base URL.
func (e *Env) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	e.servers = append(e.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "bench: serve:", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// loadConfig writes a gateway.yaml routing Model to the simulator at simURL, with
// one tenant holding Token, and loads it the way the gateway does at start.
func loadConfig(dir, simURL string, gw GatewaySetup) (*config.Config, error) {
	defaults := "{tools.allowlist: []}"
	if gw.StackTools {
		defaults = "{}"
	}
	yaml := fmt.Sprintf(`backends:
  - {name: sim, kind: simulator, base_url: %q}
models:
  - {id: %s, context_window: 32768, chain: [{backend: sim}]}
tenants:
  bench:
    defaults: %s
    tokens:
      - {name: bench, sha256: %s, role: user}
routing: {first_byte_timeout: 10s, response_timeout: 30s}
`, simURL, Model, defaults, auth.Digest(Token)) + gw.YAML + "\n"
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	return config.Load(func(k string) string {
		switch k {
		case "SPASS_CONFIG":
			return path
		case "SPASS_DATA_DIR":
			return filepath.Join(dir, "data")
		}
		return os.Getenv(k)
	})
}
