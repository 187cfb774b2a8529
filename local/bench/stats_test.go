package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100) // 1..100 µs
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Microsecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50 * time.Microsecond},
		{"p90 of 100", hundred, 90, 90 * time.Microsecond},
		{"p99 of 100", hundred, 99, 99 * time.Microsecond},
		{"p100 of 100", hundred, 100, 100 * time.Microsecond},
		{"p99.9 of 100 rounds up", hundred, 99.9, 100 * time.Microsecond},
		{"tiny p is the minimum", hundred, 0.001, time.Microsecond},
		{"p50 of 4 is the lower middle", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p51 of 4", []time.Duration{1, 2, 3, 4}, 51, 3},
		{"p99 of 3 is the maximum", []time.Duration{1, 2, 3}, 99, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	got := Summarize([]time.Duration{5, 1, 4, 2, 3})
	want := Summary{N: 5, P50: 3, P90: 5, P99: 5, Max: 5}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}

func TestBlockTargetAlternatesABBA(t *testing.T) {
	var got []int
	for k := range 8 {
		got = append(got, blockTarget(k, 2))
	}
	want := []int{0, 1, 1, 0, 0, 1, 1, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("blockTarget order = %v, want %v", got, want)
		}
	}
}

// TestScenarioReportJudgesBilling: the billing ratio compares what the gateway adds
// with billing on and off, over the same direct baseline.
func TestScenarioReportJudgesBilling(t *testing.T) {
	at := func(d time.Duration) TargetResult {
		return TargetResult{Sent: 3, Total: []time.Duration{d, d, d}}
	}
	names := []string{Direct, Gateway, NoBilling}
	for _, c := range []struct {
		on, off time.Duration
		met     bool
	}{ // added: on 105 µs vs off 100 µs is within 10 %, 120 vs 100 is not
		{1105 * time.Microsecond, 1100 * time.Microsecond, true},
		{1095 * time.Microsecond, 1100 * time.Microsecond, true},
		{1120 * time.Microsecond, 1100 * time.Microsecond, false},
	} {
		res := LoadResult{Targets: []TargetResult{at(time.Millisecond), at(c.on), at(c.off)}}
		s := scenarioReport(Scenario{Name: "chat", CompareBilling: true, Judged: true}, res, names)
		if s.Billing == nil || s.Billing.Met != c.met || s.Billing.OnP50 != us(c.on-time.Millisecond) {
			t.Errorf("on %v off %v: billing %+v, want met=%v", c.on, c.off, s.Billing, c.met)
		}
	}
}
