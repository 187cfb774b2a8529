package shim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"spass/functions"
	"spass/local/simulator"
	"spass/shared/config"
	"spass/shared/identity"
)

// Run loads the config, starts the simulator for the embedded default, and serves
// the gateway until ctx ends.
func Run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	slog.SetDefault(cfg.Log.Logger(os.Stderr)) // logs on stderr; the banners below stay on stdout
	stop, err := Embed(cfg, stdout)
	if err != nil {
		return err
	}
	defer stop()
	return functions.Serve(ctx, cfg, getenv, stdout)
}

// Embed completes the embedded default in cfg, as `make run` and lambda-local need:
// with no backend configured it starts the simulator and points the simulator
// backend at it; with no tenants it adds the dev token; with no operators it adds
// the operator token (see functions.OperatorToken). It prints what it did; stop ends the
// simulator.
func Embed(cfg *config.Config, stdout io.Writer) (stop func(), err error) {
	stop = func() {}
	dev := false
	if cfg.Embedded {
		getenv := cfg.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		delay, err := simTokenDelay(getenv)
		if err != nil {
			return nil, err
		}
		url, stopSim, err := startSimulator(delay)
		if err != nil {
			return nil, err
		}
		stop = stopSim
		cfg.Backends[0].BaseURL = url
		fmt.Fprintf(stdout, "No backend configured: serving the built-in simulator (%s) with models sim-chat, sim-vision, sim-embed, sim-image,\n"+
			"sim-whisper, sim-tts, sim-moderation, sim-rerank, "+
			"streaming %v per token (%s).\n", url, delay, SimTokenDelayEnv)
	}
	if len(cfg.Tenants) == 0 {
		tok, _, err := functions.KeptToken(cfg.DataDir, "dev-token", "spass-dev-")
		if err != nil {
			stop()
			return nil, err
		}
		cfg.Tenants = map[string]config.Tenant{config.DefaultTenant: {Tokens: []config.Token{{Name: "dev", Plain: tok, Role: identity.RoleAdmin}}}}
		fmt.Fprintf(stdout, "No API_KEYS or tenants configured: dev token (tenant %q, role admin):\n\n    %s\n\n", config.DefaultTenant, tok)
		dev = true
	}
	if err := functions.OperatorToken(cfg, dev, stdout); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// SimTokenDelayEnv sets the built-in simulator's pace: the time per streamed token.
const SimTokenDelayEnv = "SPASS_SIM_TOKEN_DELAY"

// DefaultSimTokenDelay is a pace a person sees: about 25 tokens a second.
const DefaultSimTokenDelay = 40 * time.Millisecond

// Variables are the environment variables of the dev shim beside the gateway's.
var Variables = []config.Variable{
	{Name: SimTokenDelayEnv, Meaning: "the built-in simulator's time per token, e.g. 40ms (default; 0 answers at once)"},
}

// simTokenDelay reads SPASS_SIM_TOKEN_DELAY.
func simTokenDelay(getenv func(string) string) (time.Duration, error) {
	v := getenv(SimTokenDelayEnv)
	if v == "" {
		return DefaultSimTokenDelay, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: need a duration such as 40ms (0 for none), got %q", SimTokenDelayEnv, v)
	}
	return d, nil
}

// startSimulator serves the simulator on a free loopback port, streaming at the
// pace of SPASS_SIM_TOKEN_DELAY.
func startSimulator(delay time.Duration) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: simulator.New(simulator.Options{TokenDelay: delay}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
