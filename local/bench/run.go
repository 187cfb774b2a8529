package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"spass/local/simulator"
)

// Targets of the added latency: what the gateway may add at the configured rate.
const (
	TargetP50 = 100 * time.Microsecond
	TargetP99 = time.Millisecond
)

// Options configures a benchmark run.
type Options struct {
	Rate     float64       // requests per second sent to each target while it is measured
	Duration time.Duration // measured time per scenario and target
	Warmup   time.Duration // unmeasured time per scenario, split between the targets
	Block    time.Duration // targets alternate in blocks this long
	Tokens   int           // completion tokens per reply
	// TokenDelay is the simulated generation time per streamed token, so that a
	// stream arrives at the gateway event by event as from a real backend.
	// Non-streamed replies are immediate.
	TokenDelay time.Duration
	// GatewayYAML is appended to the gateway's generated gateway.yaml.
	GatewayYAML string
	// Progress, if set, receives a line as each phase starts.
	Progress io.Writer
	// Only, if not empty, names the scenarios to run.
	Only []string
}

// BillingTolerance is how much more latency the gateway may add with billing on
// than with billing off: 10 %.
const BillingTolerance = 1.10

// Scenario is one kind of request.
type Scenario struct {
	Name   string
	Stream bool
	// StackTools keeps the tenant default of injecting the stack tools.
	StackTools bool
	// CompareBilling adds a third target, the same gateway with billing off.
	CompareBilling bool
	// Judged says whether the scenario counts for the latency target.
	Judged bool
}

// Scenarios are the request kinds every run measures. chat and stream are the
// proxy path (auth, tenant policy, rate limits, routing, billing, metrics) and
// are judged. chat+tools is the tenant default of injecting all stack tools: it
// is reported but not judged, because the gateway then sends the upstream a
// different, 8.6 KB larger request, whose handling upstream is in the difference.
var Scenarios = []Scenario{
	{Name: "chat", CompareBilling: true, Judged: true},
	{Name: "stream", Stream: true, CompareBilling: true, Judged: true},
	{Name: "chat+tools", StackTools: true},
}

// Target names, in the order a Load gets their URLs.
const (
	Direct    = "direct"
	Gateway   = "gateway"
	NoBilling = "no billing"
	BareProxy = "bare proxy"
)

// Run measures every scenario against both targets. Each scenario gets its own
// simulator and gateway, so the stream scenario's token delay does not slow the
// non-streamed one; within a scenario both targets share the one simulator.
func Run(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{
		Rate: o.Rate, DurationS: o.Duration.Seconds(), WarmupS: o.Warmup.Seconds(), BlockMS: ms(o.Block),
		Tokens: o.Tokens, TokenDelayMS: ms(o.TokenDelay),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		TargetP50US: us(TargetP50), TargetP99US: us(TargetP99),
		LoadBefore: loadAverage(), GatewayYAML: o.GatewayYAML,
	}
	for _, sc := range Scenarios {
		if len(o.Only) > 0 && !slices.Contains(o.Only, sc.Name) {
			continue
		}
		sr, err := runScenario(ctx, o, sc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		rep.Scenarios = append(rep.Scenarios, *sr)
	}
	rep.LoadAfter = loadAverage()
	rep.Met = true
	for _, s := range rep.Scenarios {
		rep.Met = rep.Met && s.Met
	}
	return rep, nil
}

func runScenario(ctx context.Context, o Options, sc Scenario) (*ScenarioReport, error) {
	sim := simulator.Options{}
	if sc.Stream {
		sim.TokenDelay = o.TokenDelay
	}
	env, err := Start(ctx, sim, GatewaySetup{YAML: o.GatewayYAML, StackTools: sc.StackTools})
	if err != nil {
		return nil, err
	}
	defer env.Close()
	targets, names := []string{env.SimURL, env.GatewayURL}, []string{Direct, Gateway}
	if sc.CompareBilling {
		off, err := env.AddGateway(ctx, GatewaySetup{YAML: o.GatewayYAML + "\nbilling: {disabled: true}", StackTools: sc.StackTools})
		if err != nil {
			return nil, fmt.Errorf("gateway without billing (-gateway-yaml must not set billing): %w", err)
		}
		targets, names = append(targets, off), append(names, NoBilling)
	}
	if sc.Judged {
		bare, err := env.AddBareProxy()
		if err != nil {
			return nil, err
		}
		targets, names = append(targets, bare), append(names, BareProxy)
	}
	client := NewClient()
	defer client.CloseIdleConnections()

	load := Load{
		Targets:  targets,
		Request:  Request{Body: ChatBody(o.Tokens, sc.Stream), Stream: sc.Stream},
		Rate:     o.Rate,
		Block:    o.Block,
		Client:   client,
		Upstream: env.Upstream,
	}
	if o.Warmup > 0 {
		progress(o.Progress, "%s: warming up for %v", sc.Name, o.Warmup)
		warm := load
		warm.Duration = o.Warmup / 2
		warm.Block = min(o.Block, warm.Duration)
		if _, err := warm.Run(ctx); err != nil {
			return nil, err
		}
	}
	runtime.GC() // start measuring with the warm-up's garbage collected
	progress(o.Progress, "%s: measuring %v per target at %.0f req/s", sc.Name, o.Duration, o.Rate)
	load.Duration = o.Duration
	res, err := load.Run(ctx)
	if err != nil {
		return nil, err
	}
	return scenarioReport(sc, res, names), nil
}

// loadAverage returns the system's 1-minute load average, or "" where unknown: a
// busy machine (another build, another benchmark) explains noisy tails.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	avg, _, _ := strings.Cut(string(b), " ")
	return avg
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
