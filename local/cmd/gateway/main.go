// Command gateway runs every endpoint group of the SPASS gateway on one port: the
// dev shim, and how the DGX host runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"spass/shared/config"
	"syscall"

	"spass/local/shim"
)

// about is the first line of -h.
const about = "gateway (make run): every endpoint group of the SPASS gateway on one port. With no backend\n" +
	"configured it serves the built-in simulator; with no tokens it prints a dev token."

func main() {
	vars := append(slices.Clone(config.Variables), shim.Variables...)
	if help, err := config.ParseFlags(flag.NewFlagSet("gateway", flag.ContinueOnError), about, vars, os.Args[1:], os.Stdout); err != nil {
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
	if err := shim.Run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "spass:", err)
		os.Exit(1)
	}
}
