package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"spass/local/simulator"
	"spass/shared/chat"
)

// CostOptions configures the cost run (bench -cost): the gateway and a bare
// httputil.ReverseProxy, each in its own process in front of the same simulator,
// under the same open-loop load; then both at saturation, closed loop.
type CostOptions struct {
	Rate       float64       // requests per second to each target while it is measured
	Rounds     int           // open-loop rounds per scenario
	Duration   time.Duration // measured time per target and round
	Warmup     time.Duration // unmeasured time per scenario, split between the targets
	Block      time.Duration // targets alternate in blocks this long
	Tokens     int
	TokenDelay time.Duration
	// GatewayYAML is appended to the gateway's gateway.yaml.
	GatewayYAML string
	// CapacityBlocks blocks of CapacityBlock per target measure the closed-loop
	// capacity, with Concurrency requests in flight; zero blocks skip it.
	CapacityBlocks int
	CapacityBlock  time.Duration
	Concurrency    int
	// CPUProfile and MemProfile, if set, name files that each gateway process
	// writes its CPU and allocation profile to, with the scenario's name added
	// (and "-bare" for the bare proxy's).
	CPUProfile, MemProfile string
	Progress               io.Writer
	Only                   []string // scenarios to run; all when empty
	// AsBuilt runs the targets from this binary as it is, rather than from a copy
	// written as an install writes it (see InstalledCopy).
	AsBuilt bool
}

// CostScenario is one kind of request of the cost run, with its targets: the
// gateway's CPU per request within MaxCPURatio of the bare proxy's, its peak RSS
// under MaxPeakRSS (0: not judged), its closed-loop capacity at least MinCapacity
// of the bare proxy's (0: not judged; Capacity false: not measured).
type CostScenario struct {
	Name   string
	Stream bool
	// Tools is the request's SPASS-Tools header; "" keeps the tenant default of
	// injecting every stack tool (14 definitions, 8.6 KB).
	Tools       string
	MaxCPURatio float64
	MaxPeakRSS  int64
	Capacity    bool
	MinCapacity float64
}

// CostScenarios are the request kinds of the cost run. The benchmark tenant keeps
// the default stack tools; "plain" and "stream" opt out per request.
var CostScenarios = []CostScenario{
	{Name: "plain", Tools: "none", MaxCPURatio: 1.10, Capacity: true},
	{Name: "stream", Stream: true, Tools: "none", MaxCPURatio: 1.20, MaxPeakRSS: 60 << 20, Capacity: true, MinCapacity: 0.80},
	{Name: "stream+tools", Stream: true, MaxCPURatio: 1.30, MaxPeakRSS: 60 << 20},
}

// Cost runs every cost scenario.
func Cost(ctx context.Context, o CostOptions) (*CostReport, error) {
	rep := &CostReport{
		Rate: o.Rate, Rounds: o.Rounds, DurationS: o.Duration.Seconds(), WarmupS: o.Warmup.Seconds(), BlockMS: ms(o.Block),
		Tokens: o.Tokens, TokenDelayMS: ms(o.TokenDelay), Concurrency: o.Concurrency,
		CapacityS: (time.Duration(o.CapacityBlocks) * o.CapacityBlock).Seconds(),
		NumCPU:    runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAverage(), GatewayYAML: o.GatewayYAML,
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if !o.AsBuilt {
		dir, err := os.MkdirTemp("", "spass-bench-exe-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if exe, err = InstalledCopy(exe, dir); err != nil {
			return nil, err
		}
	}
	rep.AsBuilt = o.AsBuilt
	for _, sc := range CostScenarios {
		if len(o.Only) > 0 && !slices.Contains(o.Only, sc.Name) {
			continue
		}
		sr, err := costScenario(ctx, exe, o, sc)
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

// costTargets are a scenario's processes: the simulator (in this process, with the
// load generator), the gateway and the bare proxy.
type costTargets struct {
	sim          *Stamper
	simURL       string
	gateway, bar *Proc
	servers      *Env // serves the simulator
}

func (t *costTargets) close() {
	if t.gateway != nil {
		t.gateway.Close()
	}
	if t.bar != nil {
		t.bar.Close()
	}
	t.servers.Close()
}

func startCostTargets(exe string, o CostOptions, sc CostScenario) (_ *costTargets, err error) {
	sim := simulator.Options{}
	if sc.Stream {
		sim.TokenDelay = o.TokenDelay
	}
	t := &costTargets{servers: &Env{Sim: simulator.New(sim)}}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	t.sim = NewStamper(t.servers.Sim)
	if t.simURL, err = t.servers.serve(t.sim); err != nil {
		return nil, err
	}
	if t.servers.dir, err = os.MkdirTemp("", "spass-bench-"); err != nil {
		return nil, err
	}
	gw := ChildSpec{Kind: KindGateway, Upstream: t.simURL, Dir: t.servers.dir, YAML: o.GatewayYAML, StackTools: true,
		CPUProfile: profileName(o.CPUProfile, sc.Name), MemProfile: profileName(o.MemProfile, sc.Name)}
	if t.gateway, err = StartProc(exe, gw); err != nil {
		return nil, err
	}
	bare := ChildSpec{Kind: KindBare, Upstream: t.simURL,
		CPUProfile: profileName(o.CPUProfile, sc.Name+"-bare"), MemProfile: profileName(o.MemProfile, sc.Name+"-bare")}
	if t.bar, err = StartProc(exe, bare); err != nil {
		return nil, err
	}
	return t, nil
}

// profileName is path with the scenario's name before its extension, "" for "".
func profileName(path, scenario string) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	name := strings.ReplaceAll(scenario, "+", "-")
	return path[:len(path)-len(ext)] + "." + name + ext
}

func costScenario(ctx context.Context, exe string, o CostOptions, sc CostScenario) (*CostScenarioReport, error) {
	t, err := startCostTargets(exe, o, sc)
	if err != nil {
		return nil, err
	}
	defer t.close()
	client := NewClient()
	defer client.CloseIdleConnections()
	req := Request{Body: ChatBody(o.Tokens, sc.Stream), Stream: sc.Stream}
	if sc.Tools != "" {
		req.Header = http.Header{chat.HeaderTools: {sc.Tools}}
	}
	load := Load{
		Targets: []string{t.simURL, t.gateway.URL, t.bar.URL}, Request: req,
		Rate: o.Rate, Block: o.Block, Client: client, Upstream: t.sim,
	}
	if o.Warmup > 0 {
		progress(o.Progress, "%s: warming up for %v", sc.Name, o.Warmup)
		warm := load
		warm.Duration = o.Warmup / time.Duration(len(load.Targets))
		warm.Block = min(o.Block, warm.Duration)
		if _, err := warm.Run(ctx); err != nil {
			return nil, err
		}
	}
	rounds := make([]LoadResult, 0, o.Rounds)
	cpus := [2][]time.Duration{}
	for i := range o.Rounds {
		progress(o.Progress, "%s: round %d of %d, %v per target at %.0f req/s", sc.Name, i+1, o.Rounds, o.Duration, o.Rate)
		before, err := procStats(t.gateway, t.bar)
		if err != nil {
			return nil, err
		}
		load.Duration = o.Duration
		res, err := load.Run(ctx)
		if err != nil {
			return nil, err
		}
		after, err := procStats(t.gateway, t.bar)
		if err != nil {
			return nil, err
		}
		for j := range cpus {
			cpus[j] = append(cpus[j], after[j].CPU-before[j].CPU)
		}
		rounds = append(rounds, res)
	}
	peak, err := procStats(t.gateway, t.bar)
	if err != nil {
		return nil, err
	}
	s := costReport(sc, rounds, cpus, peak)
	if sc.Capacity && o.CapacityBlocks > 0 {
		progress(o.Progress, "%s: capacity, %d in flight, %d blocks of %v per target", sc.Name, o.Concurrency, o.CapacityBlocks, o.CapacityBlock)
		before, err := procStats(t.gateway, t.bar)
		if err != nil {
			return nil, err
		}
		c := Capacity{Targets: []string{t.gateway.URL, t.bar.URL}, Request: req, Concurrency: o.Concurrency,
			Block: o.CapacityBlock, Blocks: o.CapacityBlocks, Client: client, FirstID: 1 << 28}
		res, err := c.Run(ctx)
		if err != nil {
			return nil, err
		}
		after, err := procStats(t.gateway, t.bar)
		if err != nil {
			return nil, err
		}
		s.setCapacity(sc, res, [2]time.Duration{after[0].CPU - before[0].CPU, after[1].CPU - before[1].CPU})
	}
	return s, nil
}

// procStats reads the stats of the gateway and the bare proxy.
func procStats(ps ...*Proc) ([2]ProcStats, error) {
	var out [2]ProcStats
	for i, p := range ps {
		s, err := p.Stats()
		if err != nil {
			return out, err
		}
		out[i] = s
	}
	return out, nil
}
