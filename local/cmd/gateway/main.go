// Command gateway runs every endpoint group of the SPASS gateway on one port: the
// dev shim, and how the DGX host runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"spass/local/shim"
)

func main() {
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
