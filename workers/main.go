// Command workers runs the gateway's asynq workers and scheduler on Redis: billing
// rollups now, compaction and RAG indexing as those land. Run exactly the workers you
// need; several schedulers are safe because periodic tasks are unique per period.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

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
	if cfg.RedisURL == "" {
		return errors.New("REDIS_URL is required: without Redis the gateway runs these jobs in-process")
	}
	cfg.Billing.Disabled = true // workers write no ledger rows of their own
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	concurrency, _ := strconv.Atoi(getenv("SPASS_WORKER_CONCURRENCY"))
	w, err := jobs.NewWorkers(cfg.RedisURL, a.Store, max(concurrency, 4))
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SPASS workers processing queues %v\n", jobs.Queues)
	<-ctx.Done()
	w.Shutdown()
	return nil
}
