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
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"spass/local/shim"
	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/config"
)

// Token is the bearer token of the benchmark tenant; the gateway knows only its
// SHA-256, as in a real gateway.yaml.
const Token = "sk-bench-tenant"

// User is the SPASS-User-Id every benchmark request carries.
const User = "bench"

// Model is the model every benchmark request names.
const Model = "sim-chat"

// Env is a simulator and a gateway routing Model to it, each on its own loopback
// HTTP server in this process.
type Env struct {
	SimURL     string // the simulator's base URL, without /v1
	GatewayURL string // the gateway's base URL, without /v1
	Sim        *simulator.Server
	// Upstream is the simulator's handler as served: it stamps when each
	// request's answer ended.
	Upstream *Stamper
	App      *app.App

	servers []*http.Server
	dir     string
}

// Start serves a simulator configured by sim and a gateway in front of it.
// extraYAML is appended to the generated gateway.yaml (top-level keys other than
// backends, models, tenants and routing), e.g. "billing: {disabled: true}" to
// see what the ledger costs.
func Start(ctx context.Context, sim simulator.Options, extraYAML string) (e *Env, err error) {
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
	cfg, err := loadConfig(e.dir, e.SimURL, extraYAML)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if e.App, err = app.Open(ctx, cfg); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if e.GatewayURL, err = e.serve(shim.Handler(e.App)); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return e, nil
}

// Close stops both servers and removes the gateway's data directory.
func (e *Env) Close() {
	for _, s := range e.servers {
		s.Close()
	}
	if e.App != nil {
		e.App.Close()
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
func loadConfig(dir, simURL, extraYAML string) (*config.Config, error) {
	yaml := fmt.Sprintf(`backends:
  - {name: sim, kind: simulator, base_url: %q}
models:
  - {id: %s, context_window: 32768, chain: [{backend: sim}]}
tenants:
  bench:
    tokens:
      - {name: bench, sha256: %s, role: user}
routing: {first_byte_timeout: 10s, response_timeout: 30s}
`, simURL, Model, auth.Digest(Token)) + extraYAML + "\n"
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
		return os.Getenv(k) // e.g. SPASS_TOOLS_ALLOWLIST=none to measure without stack tools
	})
}
