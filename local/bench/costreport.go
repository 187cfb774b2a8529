package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// CostReport is the result of Cost; its JSON form is the -cost -json output.
// Times are in microseconds, sizes in MB (2^20 bytes), unless a field says otherwise.
type CostReport struct {
	Rate         float64 `json:"rate"`
	Rounds       int     `json:"rounds"`
	DurationS    float64 `json:"duration_s"`
	WarmupS      float64 `json:"warmup_s"`
	BlockMS      float64 `json:"block_ms"`
	Tokens       int     `json:"tokens"`
	TokenDelayMS float64 `json:"token_delay_ms"`
	Concurrency  int     `json:"capacity_concurrency"`
	CapacityS    float64 `json:"capacity_s"` // measured closed-loop time per target
	NumCPU       int     `json:"num_cpu"`
	GoVersion    string  `json:"go_version"`
	GatewayYAML  string  `json:"gateway_yaml,omitempty"`
	LoadBefore   string  `json:"load_before,omitempty"`
	LoadAfter    string  `json:"load_after,omitempty"`
	// AsBuilt: the targets ran from the benchmark binary as built, not from a copy.
	AsBuilt bool `json:"as_built,omitempty"`

	Scenarios []CostScenarioReport `json:"scenarios"`
	Met       bool                 `json:"met"`
}

// CostScenarioReport compares the gateway with the bare proxy on one scenario.
type CostScenarioReport struct {
	Name   string `json:"name"`
	Stream bool   `json:"stream"`
	Tools  string `json:"spass_tools,omitempty"`
	// Direct is the simulator itself, for the latency the proxies add.
	Direct  CostTarget `json:"direct"`
	Gateway CostTarget `json:"gateway"`
	Bare    CostTarget `json:"bare_proxy"`
	// CPURatio is the gateway's CPU per request over the bare proxy's, over all
	// rounds; CPURatios per round.
	CPURatio    float64   `json:"cpu_ratio"`
	CPURatios   []float64 `json:"cpu_ratio_rounds"`
	MaxCPURatio float64   `json:"max_cpu_ratio"`
	CPUMet      bool      `json:"cpu_met"`
	// MaxPeakRSSMB is the bound of the gateway's peak RSS, 0 when not judged.
	MaxPeakRSSMB float64         `json:"max_peak_rss_mb,omitempty"`
	RSSMet       bool            `json:"rss_met"`
	Capacity     *CapacityReport `json:"capacity,omitempty"`
	Met          bool            `json:"met"`
}

// CostTarget is one target's side of a cost scenario.
type CostTarget struct {
	Requests   int    `json:"requests"`
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	Latency    Dist   `json:"latency"`
	TTFB       *Dist  `json:"ttfb,omitempty"`
	// CPUPerRequest is the target process's CPU time over every round divided by
	// the requests it served; CPURounds per round. Zero for direct, which shares
	// the load generator's process.
	CPUPerRequest float64   `json:"cpu_per_request_us,omitempty"`
	CPURounds     []float64 `json:"cpu_per_request_rounds_us,omitempty"`
	// PeakRSSMB is the process's resident set high-water mark after the rounds;
	// HeapSysMB and GoSysMB the Go runtime's heap and total then.
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	FileRSSMB float64 `json:"file_rss_mb,omitempty"` // of it, the binary's pages
	HeapSysMB float64 `json:"heap_sys_mb,omitempty"`
	GoSysMB   float64 `json:"go_sys_mb,omitempty"`
	GCs       uint32  `json:"gcs,omitempty"`
}

// CapacityReport is the closed-loop throughput of the gateway and the bare proxy.
type CapacityReport struct {
	Gateway       float64 `json:"gateway_rps"`
	Bare          float64 `json:"bare_proxy_rps"`
	GatewayErrors int     `json:"gateway_errors"`
	BareErrors    int     `json:"bare_proxy_errors"`
	FirstError    string  `json:"first_error,omitempty"`
	Ratio         float64 `json:"ratio"`
	MinRatio      float64 `json:"min_ratio,omitempty"` // 0: not judged
	GatewayCPUUS  float64 `json:"gateway_cpu_per_request_us"`
	BareCPUUS     float64 `json:"bare_proxy_cpu_per_request_us"`
	Met           bool    `json:"met"`
}

const mb = 1 << 20

func costReport(sc CostScenario, rounds []LoadResult, cpus [2][]time.Duration, peak [2]ProcStats) *CostScenarioReport {
	s := &CostScenarioReport{Name: sc.Name, Stream: sc.Stream, Tools: sc.Tools, MaxCPURatio: sc.MaxCPURatio,
		MaxPeakRSSMB: float64(sc.MaxPeakRSS) / mb}
	merged := make([]TargetResult, 3)
	sent := [2][]int{}
	for _, r := range rounds {
		for i, t := range r.Targets {
			m := &merged[i]
			m.Sent, m.Errors = m.Sent+t.Sent, m.Errors+t.Errors
			if m.FirstError == "" {
				m.FirstError = t.FirstError
			}
			m.Total, m.TTFB = append(m.Total, t.Total...), append(m.TTFB, t.TTFB...)
			if i > 0 {
				sent[i-1] = append(sent[i-1], t.Sent)
			}
		}
	}
	target := func(t TargetResult) CostTarget {
		c := CostTarget{Requests: t.Sent, Errors: t.Errors, FirstError: t.FirstError, Latency: dist(Summarize(t.Total))}
		if sc.Stream {
			d := dist(Summarize(t.TTFB))
			c.TTFB = &d
		}
		return c
	}
	s.Direct, s.Gateway, s.Bare = target(merged[0]), target(merged[1]), target(merged[2])
	for i, c := range []*CostTarget{&s.Gateway, &s.Bare} {
		var total time.Duration
		for r, cpu := range cpus[i] {
			total += cpu
			c.CPURounds = append(c.CPURounds, perRequest(cpu, sent[i][r]))
		}
		c.CPUPerRequest = perRequest(total, c.Requests)
		c.PeakRSSMB, c.HeapSysMB, c.GoSysMB = float64(peak[i].PeakRSS)/mb, float64(peak[i].HeapSys)/mb, float64(peak[i].GoSys)/mb
		c.FileRSSMB = float64(peak[i].FileRSS) / mb
		c.GCs = peak[i].NumGC
	}
	s.CPURatio = ratio(s.Gateway.CPUPerRequest, s.Bare.CPUPerRequest)
	for r := range s.Gateway.CPURounds {
		s.CPURatios = append(s.CPURatios, ratio(s.Gateway.CPURounds[r], s.Bare.CPURounds[r]))
	}
	s.CPUMet = s.CPURatio > 0 && s.CPURatio <= sc.MaxCPURatio
	s.RSSMet = sc.MaxPeakRSS == 0 || s.Gateway.PeakRSSMB*mb < float64(sc.MaxPeakRSS)
	s.Met = s.CPUMet && s.RSSMet && s.Direct.Errors+s.Gateway.Errors+s.Bare.Errors == 0
	return s
}

// setCapacity adds the closed-loop results (gateway, bare proxy) and the CPU each
// process used meanwhile.
func (s *CostScenarioReport) setCapacity(sc CostScenario, res []CapacityResult, cpu [2]time.Duration) {
	g, b := res[0], res[1]
	c := &CapacityReport{Gateway: g.Rate(), Bare: b.Rate(), GatewayErrors: g.Errors, BareErrors: b.Errors,
		MinRatio: sc.MinCapacity, GatewayCPUUS: perRequest(cpu[0], g.Done), BareCPUUS: perRequest(cpu[1], b.Done)}
	c.FirstError = g.FirstError + b.FirstError
	c.Ratio = ratio(c.Gateway, c.Bare)
	c.Met = g.Errors+b.Errors == 0 && (sc.MinCapacity == 0 || c.Ratio >= sc.MinCapacity)
	s.Capacity = c
	s.Met = s.Met && c.Met
}

func perRequest(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return us(cpu) / float64(n)
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// WriteJSON writes r as indented JSON.
func (r *CostReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as tables for people.
func (r *CostReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "SPASS gateway cost against a bare httputil.ReverseProxy, each in its own process before the same simulator\n")
	fmt.Fprintf(w, "open loop %.0f req/s, %d rounds of %gs per target (+%gs warm-up), targets alternating in %gms blocks;\n",
		r.Rate, r.Rounds, r.DurationS, r.WarmupS, r.BlockMS)
	fmt.Fprintf(w, "closed loop: %d in flight, %gs per target; %d tokens per reply, stream token delay %gms; %s, %d CPUs",
		r.Concurrency, r.CapacityS, r.Tokens, r.TokenDelayMS, r.GoVersion, r.NumCPU)
	if r.LoadBefore != "" {
		fmt.Fprintf(w, ", load average %s before, %s after", r.LoadBefore, r.LoadAfter)
	}
	if r.GatewayYAML != "" {
		fmt.Fprintf(w, "\ngateway.yaml extra: %s", r.GatewayYAML)
	}
	exe := "a copy of this benchmark binary, written as an install writes it"
	if r.AsBuilt {
		exe = "this benchmark binary as built (-as-built)"
	}
	fmt.Fprint(w, "\nCPU/req is each process's own CPU time per request it served; direct is the simulator, in the load generator's process.\n"+
		"peak RSS is VmHWM; binary is the part of the RSS that is the (shared, file-backed) pages of the binary both targets run: "+exe+"\n\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\trequests\terrors\tp50\tp99\tTTFB p50\tCPU/req\tper round\tpeak RSS\tbinary\theap\t")
	for _, s := range r.Scenarios {
		for _, t := range []struct {
			name string
			c    CostTarget
		}{{Direct, s.Direct}, {Gateway, s.Gateway}, {BareProxy, s.Bare}} {
			ttfb, cpu, rss, file, heap := "", "", "", "", ""
			if t.c.TTFB != nil {
				ttfb = fmtUS(t.c.TTFB.P50)
			}
			if t.c.CPUPerRequest > 0 {
				cpu = fmtUS(t.c.CPUPerRequest)
				rss, file, heap = fmtMB(t.c.PeakRSSMB), fmtMB(t.c.FileRSSMB), fmtMB(t.c.HeapSysMB)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, t.name, t.c.Requests, t.c.Errors,
				fmtUS(t.c.Latency.P50), fmtUS(t.c.Latency.P99), ttfb, cpu, joinUS(t.c.CPURounds), rss, file, heap)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\ngateway / bare proxy")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tCPU/req\tper round\ttarget\tpeak RSS\ttarget\tcapacity req/s\tratio\ttarget\t")
	for _, s := range r.Scenarios {
		rounds := make([]string, len(s.CPURatios))
		for i, x := range s.CPURatios {
			rounds[i] = fmt.Sprintf("%.2f", x)
		}
		rss := "(not judged)"
		if s.MaxPeakRSSMB > 0 {
			rss = fmt.Sprintf("< %s %s", fmtMB(s.MaxPeakRSSMB), metText(s.RSSMet))
		}
		capRPS, capRatio, capTarget := "", "", ""
		if c := s.Capacity; c != nil {
			capRPS = fmt.Sprintf("%.0f / %.0f", c.Gateway, c.Bare)
			capRatio = fmt.Sprintf("%.2f", c.Ratio)
			capTarget = "(not judged)"
			if c.MinRatio > 0 {
				capTarget = fmt.Sprintf(">= %.2f %s", c.MinRatio, metText(c.Met))
			}
		}
		fmt.Fprintf(tw, "%s\t%.2fx\t%s\t<= %.2fx %s\t%s / %s\t%s\t%s\t%s\t%s\t\n", s.Name, s.CPURatio, strings.Join(rounds, " "),
			s.MaxCPURatio, metText(s.CPUMet), fmtMB(s.Gateway.PeakRSSMB), fmtMB(s.Bare.PeakRSSMB), rss, capRPS, capRatio, capTarget)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Scenarios {
		if c := s.Capacity; c != nil {
			fmt.Fprintf(w, "%s capacity: CPU/req at saturation %s gateway, %s bare proxy\n", s.Name, fmtUS(c.GatewayCPUUS), fmtUS(c.BareCPUUS))
			if c.FirstError != "" {
				fmt.Fprintf(w, "%s capacity: %d + %d errors, first: %s\n", s.Name, c.GatewayErrors, c.BareErrors, c.FirstError)
			}
		}
		for _, t := range []struct {
			name string
			c    CostTarget
		}{{Direct, s.Direct}, {Gateway, s.Gateway}, {BareProxy, s.Bare}} {
			if t.c.Errors > 0 {
				fmt.Fprintf(w, "%s %s: %d errors, first: %s\n", s.Name, t.name, t.c.Errors, t.c.FirstError)
			}
		}
	}
	if busy(r.LoadBefore, r.NumCPU) || busy(r.LoadAfter, r.NumCPU) {
		fmt.Fprintf(w, "warning: load average %s before, %s after on %d CPUs: other processes competed with the run\n",
			r.LoadBefore, r.LoadAfter, r.NumCPU)
	}
	verdict := "MET"
	if !r.Met {
		verdict = "MISSED"
	}
	_, err := fmt.Fprintf(w, "cost targets (CPU/req ratios, peak RSS, stream capacity, no errors): %s\n", verdict)
	return err
}

func fmtMB(v float64) string { return fmt.Sprintf("%.0f MB", v) }

func joinUS(vs []float64) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmtUS(v)
	}
	return strings.Join(out, " ")
}
