// Command lambda-local runs the whole bundle as Lambda functions on one port: it
// builds every function's bootstrap through the Makefile (build-<LogicalId>), starts
// them under local/lambda's Runtime API emulator, and routes each request to its
// function the way template.yaml exposes it on AWS (HTTP API routes buffered, the
// Function URL streamed). `make lambda-local` runs it; `make bench-lambda` runs it
// with -bench to measure cold starts.
//
// Like `make run`, with nothing configured it serves the built-in simulator and a
// dev token; otherwise the functions get this process's environment (BACKEND_*,
// MODEL_NAME, API_KEYS, SPASS_CONFIG, REDIS_URL ...).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"spass/local/lambda"
	"spass/local/shim"
	"spass/shared/config"

	"spass/shared/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Environ(), os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "lambda-local:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	dir         string
	template    string
	noBuild     bool
	concurrency int
	bench       bool
	runs        int
	httpAPI     string
}

// about is the first line of -h.
const about = "lambda-local (make lambda-local): every endpoint group as a Lambda function on one port, under\n" +
	"local/lambda's Runtime API emulator, routed as template.yaml exposes them on AWS. The functions get\n" +
	"this environment; with no backend configured they serve the built-in simulator."

func parse(args []string, stdout io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("lambda-local", flag.ContinueOnError)
	fs.SetOutput(stdout)
	config.Usage(fs, about, config.Variables)
	fs.StringVar(&o.dir, "dir", "bin/lambda", "where the bootstraps are built (one directory per LogicalId)")
	fs.StringVar(&o.template, "template", "template.yaml", "the SAM template")
	fs.BoolVar(&o.noBuild, "no-build", false, "use the bootstraps already in -dir")
	fs.IntVar(&o.concurrency, "concurrency", 16, "instances per function at most")
	fs.BoolVar(&o.bench, "bench", false, "measure each function's cold start instead of serving")
	fs.StringVar(&o.httpAPI, "http-api", "127.0.0.1:3000", "also serve the HTTP API alone here, buffered, as sam local start-api does (\"\" for none)")
	fs.IntVar(&o.runs, "n", 10, "cold starts per function with -bench")
	return o, fs.Parse(args)
}

func run(ctx context.Context, args []string, getenv func(string) string, environ []string, stdout io.Writer) error {
	o, err := parse(args, stdout)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	slog.SetDefault(cfg.Log.Logger(os.Stderr)) // logs on stderr; the banners below stay on stdout
	stopSim, err := shim.Embed(cfg, stdout)
	if err != nil {
		return err
	}
	defer stopSim()
	env, err := functionEnv(cfg, getenv, environ, o.dir)
	if err != nil {
		return err
	}
	tpl, err := lambda.LoadTemplate(o.template)
	if err != nil {
		return err
	}
	routes, err := lambda.BundleRoutes(tpl)
	if err != nil {
		return err
	}
	bins, err := build(ctx, o, stdout)
	if err != nil {
		return err
	}
	fns := lambda.BundleFunctions(tpl, bins, env)
	for i := range fns {
		fns[i].MaxConcurrency = o.concurrency
	}
	if o.bench {
		return bench(ctx, fns, routes, token(cfg), operatorToken(cfg), o.runs, stdout)
	}
	api, err := lambda.HTTPAPIRoutes(tpl)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, fns, routes, api, o.httpAPI, stdout)
}

// build makes the bootstraps for this machine, unless told they are there.
func build(ctx context.Context, o options, stdout io.Writer) (map[string]string, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	if o.noBuild {
		bins := map[string]string{}
		for _, f := range lambda.Functions {
			bins[f.LogicalID] = filepath.Join(dir, f.LogicalID, "bootstrap")
		}
		return bins, nil
	}
	start := time.Now()
	bins, err := lambda.Build(ctx, ".", dir, runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "Built %d bootstraps into %s in %.1fs.\n", len(bins), o.dir, time.Since(start).Seconds())
	return bins, nil
}

// serve runs the emulator on cfg's address, bounded by its server: limits, until
// ctx ends; with apiAddr, the HTTP API's routes alone (api) there too, on the same
// functions.
func serve(ctx context.Context, cfg *config.Config, fns []lambda.Function, routes, api []lambda.Route, apiAddr string, stdout io.Writer) error {
	e, err := lambda.New(fns, routes, os.Stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	s := cfg.Server
	limits := web.Limits{Idle: s.IdleTimeout.Duration, Body: s.BodyTimeout.Duration,
		MaxConns: s.MaxConns, MaxConnsPerClient: s.MaxConnsPerClient, Shutdown: s.ShutdownTimeout.Duration}
	if apiAddr != "" {
		h, err := e.Handler(api)
		if err != nil {
			return err
		}
		if ln, err := net.Listen("tcp", apiAddr); err != nil {
			fmt.Fprintf(stdout, "Not serving the HTTP API alone: %v (choose another address with -http-api)\n", err)
		} else {
			fmt.Fprintf(stdout, "The HTTP API alone, as sam local start-api serves it (buffered; POST /v1/chat/completions too): http://%s\n", ln.Addr())
			go web.ServeWith(ctx, ln, h, limits)
		}
	}
	ln, err := web.Listen(cfg.Addr)
	if err != nil {
		return err
	}
	for _, r := range routes {
		kind := "HTTP API, buffered"
		if r.URL {
			kind = "Function URL, streamed"
		}
		fmt.Fprintf(stdout, "  %-32s -> %-18s (%s)\n", r.Pattern, r.Function, kind)
	}
	fmt.Fprintf(stdout, "SPASS as Lambda functions on http://%s (one process per concurrent request)\n", ln.Addr())
	return web.ServeWith(ctx, ln, e, limits)
}
