package shim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/config"
	"spass/shared/identity"
	"spass/shared/jobs"

	"spass/shared/web"
)

// Run loads the config, starts the simulator for the embedded default, and serves
// the gateway until ctx ends.
func Run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	stop, err := Embed(cfg, stdout)
	if err != nil {
		return err
	}
	defer stop()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	stopJobs, err := StartJobs(ctx, a, getenv)
	if err != nil {
		return err
	}
	defer stopJobs()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SPASS gateway listening on http://%s (config: %s)\n", ln.Addr(), cfg.Source)
	return web.ServeWith(ctx, ln, Handler(a), a.ServerLimits())
}

// Embed completes the embedded default in cfg, as `make run` and lambda-local need:
// with no backend configured it starts the simulator and points the simulator
// backend at it; with no tenants it adds the dev token; with no operators it adds
// the operator token (see operatorToken). It prints what it did; stop ends the
// simulator.
func Embed(cfg *config.Config, stdout io.Writer) (stop func(), err error) {
	stop = func() {}
	dev := false
	if cfg.Embedded {
		url, stopSim, err := startSimulator()
		if err != nil {
			return nil, err
		}
		stop = stopSim
		cfg.Backends[0].BaseURL = url
		fmt.Fprintf(stdout, "No backend configured: serving the built-in simulator (%s) with models sim-chat, sim-vision, sim-embed, sim-image.\n", url)
	}
	if len(cfg.Tenants) == 0 {
		tok, _, err := keptToken(cfg.DataDir, "dev-token", "spass-dev-")
		if err != nil {
			stop()
			return nil, err
		}
		cfg.Tenants = map[string]config.Tenant{config.DefaultTenant: {Tokens: []config.Token{{Name: "dev", Plain: tok, Role: identity.RoleAdmin}}}}
		fmt.Fprintf(stdout, "No API_KEYS or tenants configured: dev token (tenant %q, role admin):\n\n    %s\n\n", config.DefaultTenant, tok)
		dev = true
	}
	if err := operatorToken(cfg, dev, stdout); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// operatorToken gives a gateway without configured operators one operator token,
// kept in the data dir beside the dev token: whoever can read that directory owns
// the gateway's data anyway, so the file grants nothing new. It prints the token on
// a dev start (no tenants configured) and only the file's path otherwise, so a
// production log never holds it.
func operatorToken(cfg *config.Config, dev bool, stdout io.Writer) error {
	if len(cfg.Operators) > 0 {
		return nil
	}
	tok, path, err := keptToken(cfg.DataDir, "operator-token", "spass-op-")
	if err != nil {
		return err
	}
	cfg.Operators = []config.Token{{Name: "operator-token", Plain: tok, Role: identity.RoleOperator}}
	if dev {
		fmt.Fprintf(stdout, "Operator token (/metrics, /statsz, /admin/queues; no tenant has it), kept in %s:\n\n    %s\n\n", path, tok)
	} else {
		fmt.Fprintf(stdout, "No operators configured: the operator token (/metrics, /statsz, /admin/queues) is in %s.\n", path)
	}
	return nil
}

// startSimulator serves the simulator on a free loopback port.
func startSimulator() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: simulator.New(simulator.Options{TokenDelay: 20 * time.Millisecond}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// keptToken returns the token kept in the file name of the data dir, creating it
// once (prefix and 48 random hex digits, mode 0600), so it stays the same across
// restarts of `make run`.
func keptToken(dir, name, prefix string) (tok, path string, err error) {
	path = filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), path, nil
	}
	var b [24]byte
	rand.Read(b[:])
	tok = prefix + hex.EncodeToString(b[:])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", err
	}
	slog.Info("created a token", "file", path)
	return tok, path, nil
}

// StartJobs runs the background jobs as the gateway does (Run, and tests that
// need jobs beside gatewaytest). Without Redis (the embedded default) it
// starts the app's in-process runner and the scheduler of the periodic jobs on it,
// catching up once at start; with Redis the workers binary serves the queues,
// unless SPASS_WORKERS is "inprocess", which runs the same workers here.
func StartJobs(ctx context.Context, a *app.App, getenv func(string) string) (stop func(), err error) {
	if a.LocalJobs != nil {
		sch, err := jobs.NewScheduler(a.LocalJobs, a.JobKinds()...)
		if err != nil {
			return nil, err
		}
		a.LocalJobs.Start()
		sch.CatchUp(ctx)
		sch.Start()
		return func() {
			sch.Stop()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a.LocalJobs.Shutdown(ctx)
		}, nil
	}
	if getenv("SPASS_WORKERS") != "inprocess" {
		return func() {}, nil
	}
	w, err := jobs.NewWorkers(a.Config.RedisURL, jobs.WorkersConfig{Metrics: a.Metrics.Registry()}, a.JobKinds()...)
	if err != nil {
		return nil, err
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	return w.Shutdown, nil
}
