// Command simulator runs the OpenAI-compatible inference backend simulator
// as a standalone server, for `make run`, benchmarks and manual testing of
// the gateway without a GPU.
//
// Every flag has an environment variable fallback so the binary can be
// configured from a container or Procfile without a wrapper script:
//
//	-addr         SIM_ADDR          listen address (default 127.0.0.1:9090)
//	-models       SIM_MODELS        comma-separated model ids
//	-token-delay  SIM_TOKEN_DELAY   simulated time per token, e.g. 20ms
//	-fault        SIM_FAULT         initial fault: down, 500, 429, hang, cut, half-event
//	-tool-style   SIM_TOOL_STYLE    how tool calls are written: openai, no-index, null-index,
//	                                parallel-no-index, object-args, missing-id, hermes,
//	                                mistral, llama-json
//	-api-key      SIM_API_KEY       require this bearer token on /v1 routes
//
// The fault can be changed while running with
//
//	curl -d '{"fault":"429"}' http://127.0.0.1:9090/sim/fault
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"spass/shared/config"
	"strings"
	"syscall"
	"time"

	"spass/local/simulator"
)

// shutdownGrace is how long in-flight requests get to finish on shutdown
// before their connections are closed (hanging requests never finish).
const shutdownGrace = 5 * time.Second

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "simulator:", err)
		os.Exit(1)
	}
}

// run parses the configuration, serves until ctx is done or SIGINT/SIGTERM
// arrives, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	addr, opts, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	sim := simulator.New(opts)
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "simulator listening on http://%s (models %s, fault %q)\n",
		ln.Addr(), strings.Join(modelIDs(opts), ","), sim.Fault())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Hanging or slow streams outlived the grace period; cut them off.
		srv.Close()
	}
	fmt.Fprintf(stdout, "simulator stopped after %d requests (%d cancelled)\n", sim.Requests(), sim.Cancelled())
	return nil
}

// parseConfig reads flags from args, defaulting each from its environment
// variable.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (string, simulator.Options, error) {
	var opts simulator.Options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(output)
	config.Usage(fs, "simulator: the OpenAI-compatible backend simulator (docs/simulator.md). Each flag defaults to its variable.",
		[]config.Variable{{Name: "SIM_ADDR", Meaning: "-addr"}, {Name: "SIM_MODELS", Meaning: "-models"},
			{Name: "SIM_TOKEN_DELAY", Meaning: "-token-delay"}, {Name: "SIM_FAULT", Meaning: "-fault"}, {Name: "SIM_API_KEY", Meaning: "-api-key"}})

	addr := fs.String("addr", envOr(getenv, "SIM_ADDR", "127.0.0.1:9090"), "listen address")
	models := fs.String("models", getenv("SIM_MODELS"), "comma-separated model ids (default "+strings.Join(simulator.DefaultModels(), ",")+")")
	delay := fs.String("token-delay", envOr(getenv, "SIM_TOKEN_DELAY", "0"), "simulated generation time per token, e.g. 20ms")
	fault := fs.String("fault", getenv("SIM_FAULT"), "initial fault: none, down, 500, 429, hang, cut or half-event")
	style := fs.String("tool-style", getenv("SIM_TOOL_STYLE"), "how tool calls are written (default openai; see simulator.ToolStyle)")
	fs.StringVar(&opts.APIKey, "api-key", getenv("SIM_API_KEY"), "bearer token required on /v1 routes (default none)")
	if err := fs.Parse(args[1:]); err != nil {
		return "", opts, err
	}

	var err error
	if opts.TokenDelay, err = time.ParseDuration(*delay); err != nil || opts.TokenDelay < 0 {
		return "", opts, fmt.Errorf("invalid -token-delay %q: want a non-negative duration such as 20ms", *delay)
	}
	if opts.Fault, err = simulator.ParseFault(*fault); err != nil {
		return "", opts, err
	}
	if opts.ToolStyle, err = simulator.ParseToolStyle(*style); err != nil {
		return "", opts, err
	}
	for m := range strings.SplitSeq(*models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			opts.Models = append(opts.Models, m)
		}
	}
	return *addr, opts, nil
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

func modelIDs(opts simulator.Options) []string {
	if len(opts.Models) == 0 {
		return simulator.DefaultModels()
	}
	return opts.Models
}
