package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of Run; its JSON form is the -json output. Times are in
// microseconds unless a field says otherwise.
type Report struct {
	Rate         float64 `json:"rate"`
	DurationS    float64 `json:"duration_s"`
	WarmupS      float64 `json:"warmup_s"`
	BlockMS      float64 `json:"block_ms"`
	Tokens       int     `json:"tokens"`
	TokenDelayMS float64 `json:"token_delay_ms"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	NumCPU       int     `json:"num_cpu"`
	GoVersion    string  `json:"go_version"`
	TargetP50US  float64 `json:"target_added_p50_us"`
	TargetP99US  float64 `json:"target_added_p99_us"`
	GatewayYAML  string  `json:"gateway_yaml,omitempty"`
	// LoadBefore and LoadAfter are the system's 1-minute load average.
	LoadBefore string `json:"load_before,omitempty"`
	LoadAfter  string `json:"load_after,omitempty"`

	Scenarios []ScenarioReport `json:"scenarios"`
	// Met is true when every scenario met the targets.
	Met bool `json:"met"`
}

// ScenarioReport compares the targets on one scenario.
type ScenarioReport struct {
	Name    string       `json:"name"`
	Stream  bool         `json:"stream"`
	Direct  TargetReport `json:"direct"`
	Gateway TargetReport `json:"gateway"`
	// Added is gateway minus direct, percentile by percentile (the difference of
	// the distributions, not a distribution of per-request differences, which an
	// open-loop run cannot pair up).
	Added []Added `json:"added"`
	// AddedCPUUS is the extra process CPU time per request through the gateway.
	AddedCPUUS float64 `json:"added_cpu_per_request_us"`
	// SendLag is how late the load generator sent requests relative to schedule.
	SendLag Dist `json:"send_lag"`
	// NoBilling is the same gateway with billing disabled, when compared.
	NoBilling *TargetReport `json:"gateway_billing_off,omitempty"`
	// BareProxy is httputil.ReverseProxy in front of the same upstream, and
	// BareAdded what it adds: the floor for reference, not judged.
	BareProxy *TargetReport `json:"bare_proxy,omitempty"`
	BareAdded []Added       `json:"bare_proxy_added,omitempty"`
	// Billing compares the added latency with billing on and off.
	Billing *BillingCost `json:"billing,omitempty"`
	// Judged says whether the scenario counts for the latency target.
	Judged bool `json:"judged"`
	// Met is true when every judged Added row is within the targets, billing is
	// within its tolerance and no request failed.
	Met bool `json:"met"`
}

// BillingCost is what the ledger adds: the gateway's added p50 with billing on
// against the same with billing off, on the measure billing can delay (a plain
// answer's latency, a stream's tail).
type BillingCost struct {
	Measure string  `json:"measure"`
	OnP50   float64 `json:"added_p50_on_us"`
	OffP50  float64 `json:"added_p50_off_us"`
	Ratio   float64 `json:"ratio"`
	Met     bool    `json:"met"`
}

// TargetReport is one target's side of a scenario.
type TargetReport struct {
	Requests      int     `json:"requests"`
	Errors        int     `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	Rate          float64 `json:"rate"`
	Latency       Dist    `json:"latency"`
	TTFB          *Dist   `json:"ttfb,omitempty"`
	Tail          *Dist   `json:"tail,omitempty"`
	CPUPerRequest float64 `json:"cpu_per_request_us"`
}

// Dist is a Summary in microseconds.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_us"`
	P90 float64 `json:"p90_us"`
	P99 float64 `json:"p99_us"`
	Max float64 `json:"max_us"`
}

// Added is the latency the gateway adds to one measure.
type Added struct {
	Measure string  `json:"measure"` // "latency", "ttfb", "tail"
	P50     float64 `json:"p50_us"`
	P99     float64 `json:"p99_us"`
	// Judged is false for a stream's total latency: the simulator's token timers
	// jitter by up to a millisecond per token, more or less with how busy the
	// process is, which swamps the difference; ttfb and tail stand for it.
	Judged bool `json:"judged"`
	Met    bool `json:"met"`
}

func dist(s Summary) Dist {
	return Dist{N: s.N, P50: us(s.P50), P90: us(s.P90), P99: us(s.P99), Max: us(s.Max)}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func targetReport(t TargetResult, stream bool) TargetReport {
	r := TargetReport{
		Requests: t.Sent, Errors: t.Errors, FirstError: t.FirstError, Rate: t.Rate(),
		Latency: dist(Summarize(t.Total)), CPUPerRequest: us(t.CPUPerRequest()),
	}
	if stream {
		ttfb, tail := dist(Summarize(t.TTFB)), dist(Summarize(t.Tail))
		r.TTFB, r.Tail = &ttfb, &tail
	}
	return r
}

func scenarioReport(sc Scenario, res LoadResult, names []string) *ScenarioReport {
	s := &ScenarioReport{
		Name: sc.Name, Stream: sc.Stream,
		Direct:  targetReport(res.Targets[0], sc.Stream),
		Gateway: targetReport(res.Targets[1], sc.Stream),
		SendLag: dist(res.Lag),
		Judged:  sc.Judged,
	}
	s.AddedCPUUS = s.Gateway.CPUPerRequest - s.Direct.CPUPerRequest
	s.Added = added(s.Direct, s.Gateway, sc.Stream)
	s.Met = s.Direct.Errors == 0 && s.Gateway.Errors == 0
	for i := range s.Added {
		a := &s.Added[i]
		switch a.Measure {
		case "ttfb":
			a.Judged = true
		case "tail":
			a.Judged = s.Direct.Tail.N > 0 && s.Gateway.Tail.N > 0
		case "latency":
			a.Judged = !sc.Stream
		}
		a.Judged = a.Judged && sc.Judged
		a.Met = a.P50 < us(TargetP50) && a.P99 < us(TargetP99)
		s.Met = s.Met && (a.Met || !a.Judged)
	}
	other := func(name string) *TargetReport {
		if i := slices.Index(names, name); i >= 0 {
			t := targetReport(res.Targets[i], sc.Stream)
			return &t
		}
		return nil
	}
	if s.BareProxy = other(BareProxy); s.BareProxy != nil {
		s.BareAdded = added(s.Direct, *s.BareProxy, sc.Stream)
	}
	if s.NoBilling = other(NoBilling); s.NoBilling != nil {
		b := &BillingCost{Measure: "latency"}
		if sc.Stream {
			b.Measure = "tail"
		}
		b.OnP50 = measure(s.Added, b.Measure).P50
		b.OffP50 = measure(added(s.Direct, *s.NoBilling, sc.Stream), b.Measure).P50
		if b.OffP50 > 0 {
			b.Ratio = b.OnP50 / b.OffP50
		}
		b.Met = b.OnP50 <= BillingTolerance*max(b.OffP50, 0)
		s.Billing = b
		s.Met = s.Met && b.Met && s.NoBilling.Errors == 0
	}
	return s
}

// added returns what target t adds over direct, measure by measure, unjudged.
func added(direct, t TargetReport, stream bool) []Added {
	var out []Added
	diff := func(m string, d, g Dist) {
		out = append(out, Added{Measure: m, P50: g.P50 - d.P50, P99: g.P99 - d.P99})
	}
	if stream {
		diff("ttfb", *direct.TTFB, *t.TTFB)
		diff("tail", *direct.Tail, *t.Tail)
	}
	diff("latency", direct.Latency, t.Latency)
	return out
}

// measure returns the row of as for the named measure.
func measure(as []Added, name string) Added {
	for _, a := range as {
		if a.Measure == name {
			return a
		}
	}
	return Added{}
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as tables for people.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "SPASS gateway overhead: %.0f req/s open loop, %gs per target (+%gs warm-up), targets alternating in %gms blocks\n",
		r.Rate, r.DurationS, r.WarmupS, r.BlockMS)
	fmt.Fprintf(w, "%d tokens per reply, stream token delay %gms; %s, GOMAXPROCS %d, %d CPUs", r.Tokens, r.TokenDelayMS, r.GoVersion, r.GOMAXPROCS, r.NumCPU)
	if r.LoadBefore != "" {
		fmt.Fprintf(w, ", load average %s before, %s after", r.LoadBefore, r.LoadAfter)
	}
	if r.GatewayYAML != "" {
		fmt.Fprintf(w, "\ngateway.yaml extra: %s", r.GatewayYAML)
	}
	fmt.Fprint(w, "\nload generator, simulator and gateway share this process; CPU/req is the whole process's\n\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\trequests\terrors\treq/s\tp50\tp90\tp99\tmax\tCPU/req\t")
	row := func(scenario, target string, t TargetReport, d Dist) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", scenario, target, t.Requests, t.Errors, t.Rate,
			fmtUS(d.P50), fmtUS(d.P90), fmtUS(d.P99), fmtUS(d.Max), fmtUS(t.CPUPerRequest))
	}
	for _, s := range r.Scenarios {
		targets := s.targets()
		if s.Stream {
			for _, t := range targets {
				row(s.Name+" TTFB", t.name, t.r, *t.r.TTFB)
			}
			for _, t := range targets {
				row(s.Name+" tail", t.name, t.r, *t.r.Tail)
			}
		}
		for _, t := range targets {
			row(measureName(s, "latency"), t.name, t.r, t.r.Latency)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nadded by the gateway (gateway − direct; target +p50 < %s, +p99 < %s)\n", fmtUS(r.TargetP50US), fmtUS(r.TargetP99US))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\t+p50\t+p99\t+CPU/req\ttarget\t")
	for _, s := range r.Scenarios {
		for _, a := range s.Added {
			verdict := metText(a.Met)
			if !a.Judged {
				verdict = "(not judged)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", measureName(s, a.Measure), fmtSigned(a.P50), fmtSigned(a.P99), fmtSigned(s.AddedCPUUS), verdict)
		}
		for _, a := range s.BareAdded {
			fmt.Fprintf(tw, "%s (bare proxy)\t%s\t%s\t%s\t%s\t\n", measureName(s, a.Measure), fmtSigned(a.P50), fmtSigned(a.P99),
				fmtSigned(s.BareProxy.CPUPerRequest-s.Direct.CPUPerRequest), "(reference)")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nbilling on vs off (added p50 with billing on within %.0f%% of billing off)\n", 100*(BillingTolerance-1))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ton +p50\toff +p50\ton/off\ttarget\t")
	for _, s := range r.Scenarios {
		if b := s.Billing; b != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t\n", measureName(s, b.Measure), fmtSigned(b.OnP50), fmtSigned(b.OffP50), b.Ratio, metText(b.Met))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nTTFB: to the first data event. tail: from the upstream's end of the stream to the client's last byte.")
	fmt.Fprintln(w, "stream total is not judged: the simulator's per-token timers jitter by up to 1 ms each, with how busy the process is.")
	fmt.Fprintln(w, "chat+tools is not judged: the gateway injects the tenant's stack tools (8.6 KB of definitions), so the upstream")
	fmt.Fprintln(w, "parses a larger request than the direct one; chat is the same path with the tenant's tools.allowlist empty.")
	for _, s := range r.Scenarios {
		fmt.Fprintf(w, "%s: send lag behind schedule p50 %s, p99 %s, max %s\n", s.Name, fmtUS(s.SendLag.P50), fmtUS(s.SendLag.P99), fmtUS(s.SendLag.Max))
		for _, t := range s.targets() {
			if t.r.Errors > 0 {
				fmt.Fprintf(w, "%s %s: %d errors, first: %s\n", s.Name, t.name, t.r.Errors, t.r.FirstError)
			}
			if t.r.Rate < 0.95*r.Rate {
				fmt.Fprintf(w, "%s %s: achieved only %.1f of %.0f req/s\n", s.Name, t.name, t.r.Rate, r.Rate)
			}
		}
	}
	if busy(r.LoadBefore, r.NumCPU) || busy(r.LoadAfter, r.NumCPU) {
		fmt.Fprintf(w, "warning: load average %s before, %s after on %d CPUs: other processes competed with the run; tails are theirs too\n",
			r.LoadBefore, r.LoadAfter, r.NumCPU)
	}
	verdict := "MET"
	if !r.Met {
		verdict = "MISSED"
	}
	_, err := fmt.Fprintf(w, "overall target (+p50 < %s, +p99 < %s, no errors) at %.0f req/s: %s\n", fmtUS(r.TargetP50US), fmtUS(r.TargetP99US), r.Rate, verdict)
	return err
}

// namedTarget is one target's report with its name, for the tables.
type namedTarget struct {
	name string
	r    TargetReport
}

// targets lists the scenario's measured targets in report order.
func (s ScenarioReport) targets() []namedTarget {
	out := []namedTarget{{Direct, s.Direct}, {Gateway, s.Gateway}}
	if s.NoBilling != nil {
		out = append(out, namedTarget{NoBilling, *s.NoBilling})
	}
	if s.BareProxy != nil {
		out = append(out, namedTarget{BareProxy, *s.BareProxy})
	}
	return out
}

// busy reports whether a load average says other processes wanted more than a
// quarter of the machine. The run itself adds up to about 1.
func busy(load string, cpus int) bool {
	v, err := strconv.ParseFloat(load, 64)
	return err == nil && v > 1+0.25*float64(cpus)
}

// measureName labels a scenario's measure in the tables.
func measureName(s ScenarioReport, measure string) string {
	switch {
	case measure == "ttfb":
		return s.Name + " TTFB"
	case measure == "tail":
		return s.Name + " tail"
	case s.Stream:
		return s.Name + " total"
	}
	return s.Name
}

func metText(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// fmtUS formats microseconds with a unit that keeps three significant digits.
func fmtUS(v float64) string {
	switch a := max(v, -v); {
	case a >= 10000:
		return fmt.Sprintf("%.1fms", v/1000)
	case a >= 1000:
		return fmt.Sprintf("%.2fms", v/1000)
	default:
		return fmt.Sprintf("%.0fµs", v)
	}
}

func fmtSigned(v float64) string {
	s := fmtUS(v)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}
