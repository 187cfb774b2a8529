// Command gateway is the SPASS gateway as the DGX host runs it: every endpoint
// group on one port, the background jobs in-process without Redis. Unlike
// `make run` (local/cmd/gateway) it never starts the backend simulator: it serves
// the backends the configuration names, and links nothing from local/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"spass/functions"
	"spass/shared/config"
)

// about is the first line of -h.
const about = "spass-gateway: the SPASS gateway as the DGX host runs it (every endpoint group on SPASS_ADDR,\n" +
	"jobs in-process or on REDIS_URL). It needs a backend and a tenant token; make run is the dev start."

func main() {
	if help, err := config.ParseFlags(flag.NewFlagSet("spass-gateway", flag.ContinueOnError), about, config.Variables, os.Args[1:], os.Stdout); err != nil {
		if help {
			return
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts the graceful shutdown (server.shutdown_timeout); a
	// second one ends the process at once (the ledger journal bills what was cut).
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "spass-gateway:", err)
		os.Exit(1)
	}
}

// run loads the configuration, refuses one that names no backend or no tenant
// (the embedded default is for development), and serves until ctx ends.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	slog.SetDefault(cfg.Log.Logger(os.Stderr)) // logs on stderr; the banners below stay on stdout
	if cfg.Embedded {
		return errors.New("no backend configured: set BACKEND_KIND and BACKEND_BASE_URL, or SPASS_CONFIG (make run serves the simulator for development)")
	}
	if len(cfg.Tenants) == 0 {
		return errors.New("no tenant configured: set API_KEYS, or tenants in SPASS_CONFIG")
	}
	if err := functions.OperatorToken(cfg, false, stdout); err != nil {
		return err
	}
	return functions.Serve(ctx, cfg, getenv, stdout)
}
