// Command workers serves the gateway's job queues on Redis with asynq, and fires the
// periodic jobs: billing rollups and batch inference (the lines of /v1/batches, their
// dispatch, finalize and sweep) now, compaction and RAG indexing as those land. It runs the same handlers as the gateway's in-process runner
// (app.JobKinds). Several workers may run: periodic tasks are unique per period.
//
// It bills what its jobs run (inference) through its own ledger journal under the
// data dir, like every other process that bills, and serves its metrics on
// SPASS_WORKERS_METRICS_ADDR when that is set.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"spass/shared/app"
	"spass/shared/config"
	"spass/shared/jobs"
)

// about is the first line of -h.
const about = "spass-workers: the gateway's asynq job queues on REDIS_URL and the scheduler of the periodic jobs."

// variables are the environment variables the workers read.
var variables = append(config.Pick("REDIS_URL", "DATABASE_URL", "SPASS_CONFIG", "SPASS_DATA_DIR", "BACKEND_KIND", "BACKEND_BASE_URL",
	"BACKEND_API_KEY", "MODEL_NAME", config.LogFormatEnv, config.LogLevelEnv),
	config.Variable{Name: "SPASS_WORKER_CONCURRENCY", Meaning: "jobs run at once (default 4)"},
	config.Variable{Name: "SPASS_WORKERS_METRICS_ADDR", Meaning: "where GET /metrics is served (default none)"})

func main() {
	if help, err := config.ParseFlags(flag.NewFlagSet("spass-workers", flag.ContinueOnError), about, variables, os.Args[1:], os.Stdout); err != nil {
		if help {
			return
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "spass-workers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	slog.SetDefault(cfg.Log.Logger(os.Stderr)) // logs on stderr; the banners below stay on stdout
	if cfg.RedisURL == "" {
		return errors.New("REDIS_URL is required: without Redis the gateway runs these jobs in-process")
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close() // after the workers stopped: drains the ledger, closes the store
	concurrency, _ := strconv.Atoi(getenv("SPASS_WORKER_CONCURRENCY"))
	w, err := jobs.NewWorkers(cfg.RedisURL, jobs.WorkersConfig{Concurrency: concurrency, Metrics: a.Metrics.Registry()}, a.JobKinds()...)
	if err != nil {
		return err
	}
	if addr := getenv("SPASS_WORKERS_METRICS_ADDR"); addr != "" {
		stop, err := serveMetrics(addr, a.Metrics.Handler(), stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := w.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SPASS workers processing queues %v\n", jobs.Queues())
	<-ctx.Done()
	w.Shutdown()
	return nil
}

// serveMetrics serves GET /metrics on addr until stop is called.
func serveMetrics(addr string, h http.Handler, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("SPASS_WORKERS_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "SPASS workers metrics on http://%s/metrics\n", ln.Addr())
	return func() { srv.Close() }, nil
}
