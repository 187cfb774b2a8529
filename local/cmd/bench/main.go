// Command bench measures the latency, throughput and CPU the gateway adds over its
// upstream (`make bench`). It starts the backend simulator and the gateway in this
// process on loopback listeners, sends the same open-loop load straight to the
// simulator and through the gateway, plain and streamed, and prints the added
// p50 and p99 latency and time to first byte against the project's target.
//
//	-rate         requests per second to each target (default 500)
//	-duration     measured time per scenario and target (default 10s)
//	-warmup       unmeasured time per scenario before it (default 2s)
//	-block        the targets alternate in blocks this long (default 100ms)
//	-tokens       completion tokens per reply (default 16)
//	-token-delay  simulated time per streamed token (default 1ms)
//	-gateway-yaml extra gateway.yaml keys, e.g. 'routing: {...}' (not billing: a third target has it off)
//	-cpuprofile   write a CPU profile of the run to this file (go tool pprof)
//	-only         comma-separated scenarios to run (chat, stream, chat+tools)
//	-json         print the results as JSON instead of tables
//
// With -batch it measures batches instead: interactive chat p50 on a gateway
// running a batch in-process against the same gateway idle (target: within
// 1.2x), and the batch's lines per second. -tokens and -token-delay shape every
// answer (non-streamed answers take their sum, as from a model).
//
//	-batch-lines        lines of the batch (default 1000)
//	-batch-rate         interactive requests per second (default 50)
//	-batch-idle         measured time of the idle phase (default 10s)
//	-batch-concurrency  batches.concurrency, lines in flight on the backend (default 4)
//
// With -cost it measures what the gateway costs against a bare
// httputil.ReverseProxy, each in a process of its own (this binary started
// again) in front of the same simulator: CPU per request from each process's own
// CPU time, and peak RSS, for plain requests, streams with SPASS-Tools: none and
// streams with the default stack-tool injection, open loop; then requests per
// second at saturation, closed loop, plain and stream. It prints the ratios
// gateway / bare proxy against the targets. -rate (default 1000 here),
// -duration (per target and round, default 4s here), -warmup, -block, -tokens,
// -token-delay, -gateway-yaml, -only (plain, stream, stream+tools) and -json
// apply.
//
//	-rounds              open-loop rounds per scenario (default 3)
//	-capacity-blocks     closed-loop blocks per target, 0 to skip (default 5)
//	-capacity-block      length of one closed-loop block (default 1s)
//	-concurrency         closed-loop requests in flight (default 64)
//	-gateway-cpuprofile  each gateway process writes its CPU profile here (scenario name added; the bare proxy's too, with "-bare")
//	-gateway-memprofile  ... and its allocations profile
//	-as-built            run both targets from this binary as built, not from a copy
//	                     written as cp and install write a file (on Linux 6.18 and
//	                     ext4 the linker's output maps whole large folios per fault,
//	                     which adds 6 to 15 MB of shared binary pages to each peak RSS)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"spass/shared/config"
	"strings"
	"syscall"
	"time"

	"spass/local/bench"
)

func main() {
	if bench.ChildMain() { // started again as a target of -cost
		return
	}
	// A job's start is logged at info level: a batch would print a line per line.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run parses the flags, runs every scenario and prints the report. A missed target
// is a result, not an error: the exit status says only whether the run worked.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	config.Usage(fs, "bench: the latency, throughput and CPU the gateway adds over its upstream (make bench).\n"+
		"It starts the simulator and the gateways in-process; no environment variable changes it.", nil)
	o := bench.Options{}
	fs.Float64Var(&o.Rate, "rate", 500, "requests per second to each target")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per scenario and target")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured time per scenario before it")
	fs.DurationVar(&o.Block, "block", 100*time.Millisecond, "the targets alternate in blocks this long")
	fs.IntVar(&o.Tokens, "tokens", 16, "completion tokens per reply")
	fs.DurationVar(&o.TokenDelay, "token-delay", time.Millisecond, "simulated generation time per streamed token")
	fs.StringVar(&o.GatewayYAML, "gateway-yaml", "", "extra top-level gateway.yaml keys, e.g. 'routing: {...}' (not billing: a third target has it off)")
	asJSON := fs.Bool("json", false, "print the results as JSON instead of tables")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (load generator, simulator and gateways) to this file")
	only := fs.String("only", "", "comma-separated scenarios to run (chat, stream, chat+tools); default all")
	batchMode := fs.Bool("batch", false, "measure interactive chat while a batch runs, and the batch's throughput")
	bo := bench.BatchOptions{}
	fs.IntVar(&bo.Lines, "batch-lines", 1000, "lines of the batch")
	fs.Float64Var(&bo.Rate, "batch-rate", 50, "interactive requests per second while measuring batches")
	fs.DurationVar(&bo.Idle, "batch-idle", 10*time.Second, "measured time of the idle phase")
	fs.IntVar(&bo.Concurrency, "batch-concurrency", 4, "batches.concurrency: lines in flight on the backend")
	costMode := fs.Bool("cost", false, "measure CPU per request, peak RSS and capacity against a bare proxy, each in its own process")
	co := bench.CostOptions{}
	fs.IntVar(&co.Rounds, "rounds", 3, "-cost: open-loop rounds per scenario")
	fs.IntVar(&co.CapacityBlocks, "capacity-blocks", 5, "-cost: closed-loop blocks per target (0 skips the capacity run)")
	fs.DurationVar(&co.CapacityBlock, "capacity-block", time.Second, "-cost: length of one closed-loop block")
	fs.IntVar(&co.Concurrency, "concurrency", 64, "-cost: closed-loop requests in flight")
	fs.StringVar(&co.CPUProfile, "gateway-cpuprofile", "", "-cost: each gateway process writes its CPU profile to this file, the scenario's name added (the bare proxy's with -bare)")
	fs.StringVar(&co.MemProfile, "gateway-memprofile", "", "-cost: each gateway process writes its allocations profile to this file, the scenario's name added")
	fs.BoolVar(&co.AsBuilt, "as-built", false, "-cost: run the targets from this binary as built, not from a copy written as an install writes it (their peak RSS then depends on the page cache's folios)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case o.Rate <= 0:
		return errors.New("-rate must be positive")
	case o.Duration <= 0 || o.Block <= 0:
		return errors.New("-duration and -block must be positive")
	case o.Warmup < 0 || o.TokenDelay < 0:
		return errors.New("-warmup and -token-delay must not be negative")
	case o.Tokens < 1:
		return errors.New("-tokens must be at least 1")
	}
	if !*asJSON {
		o.Progress = stdout
	}
	if *costMode {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["rate"] {
			o.Rate = 1000
		}
		if !set["duration"] {
			o.Duration = 4 * time.Second
		}
		return runCost(ctx, o, co, *only, *asJSON, stdout)
	}
	if *batchMode {
		if bo.Lines < 1 || bo.Rate <= 0 || bo.Idle <= 0 || bo.Concurrency < 1 {
			return errors.New("-batch-lines, -batch-rate, -batch-idle and -batch-concurrency must be positive")
		}
		bo.Tokens, bo.TokenDelay, bo.Progress = o.Tokens, o.TokenDelay, o.Progress
		rep, err := bench.RunBatch(ctx, bo)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		fmt.Fprintln(stdout)
		return rep.WriteText(stdout)
	}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	fmt.Fprintln(stdout)
	return rep.WriteText(stdout)
}

// runCost runs the -cost measurement with the shared flags in o.
func runCost(ctx context.Context, o bench.Options, co bench.CostOptions, only string, asJSON bool, stdout io.Writer) error {
	if co.Rounds < 1 || co.CapacityBlocks < 0 || co.CapacityBlock <= 0 || co.Concurrency < 1 {
		return errors.New("-rounds, -capacity-block and -concurrency must be positive, -capacity-blocks not negative")
	}
	co.Rate, co.Duration, co.Warmup, co.Block = o.Rate, o.Duration, o.Warmup, o.Block
	co.Tokens, co.TokenDelay, co.GatewayYAML, co.Progress = o.Tokens, o.TokenDelay, o.GatewayYAML, o.Progress
	if only != "" {
		co.Only = strings.Split(only, ",")
	}
	rep, err := bench.Cost(ctx, co)
	if err != nil {
		return err
	}
	if asJSON {
		return rep.WriteJSON(stdout)
	}
	fmt.Fprintln(stdout)
	return rep.WriteText(stdout)
}
