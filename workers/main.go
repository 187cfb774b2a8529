// Command workers serves the gateway's job queues on Redis with asynq, and fires the
// periodic jobs: billing rollups now, compaction, RAG indexing and batch inference
// as those land. It runs the same handlers as the gateway's in-process runner
// (app.JobKinds). Several workers may run: periodic tasks are unique per period.
//
// It bills what its jobs run (inference) through its own ledger journal under the
// data dir, like every other process that bills, and serves its metrics on
// SPASS_WORKERS_METRICS_ADDR when that is set.
package main

import (
	"context"
	"errors"
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

func main() {
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
