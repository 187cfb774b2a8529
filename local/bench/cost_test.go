package bench

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as a target process of the cost run.
func TestMain(m *testing.M) {
	if ChildMain() {
		return
	}
	os.Exit(m.Run())
}

// TestCostRun runs a tiny cost run: the gateway and the bare proxy start as
// processes of their own, serve every request of every scenario, and report their
// own CPU time, peak RSS and closed-loop throughput.
func TestCostRun(t *testing.T) {
	rep, err := Cost(context.Background(), CostOptions{
		Rate: 200, Rounds: 2, Duration: 60 * time.Millisecond, Block: 20 * time.Millisecond,
		Tokens: 4, TokenDelay: time.Millisecond,
		CapacityBlocks: 1, CapacityBlock: 100 * time.Millisecond, Concurrency: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != len(CostScenarios) {
		t.Fatalf("%d scenarios, want %d", len(rep.Scenarios), len(CostScenarios))
	}
	for _, s := range rep.Scenarios {
		for name, c := range map[string]CostTarget{Direct: s.Direct, Gateway: s.Gateway, BareProxy: s.Bare} {
			if c.Requests != 24 || c.Errors != 0 {
				t.Errorf("%s %s: %d requests, %d errors (%s); want 24, 0", s.Name, name, c.Requests, c.Errors, c.FirstError)
			}
		}
		for name, c := range map[string]CostTarget{Gateway: s.Gateway, BareProxy: s.Bare} {
			if c.CPUPerRequest <= 0 || len(c.CPURounds) != 2 || c.PeakRSSMB <= 1 {
				t.Errorf("%s %s: CPU/req %v (rounds %v), peak RSS %v MB; want them measured", s.Name, name, c.CPUPerRequest, c.CPURounds, c.PeakRSSMB)
			}
		}
		if len(s.CPURatios) != 2 || s.CPURatio <= 0 {
			t.Errorf("%s: CPU ratio %v, rounds %v", s.Name, s.CPURatio, s.CPURatios)
		}
		if c := s.Capacity; s.Name != "stream+tools" && (c == nil || c.Gateway <= 0 || c.Bare <= 0 || c.GatewayErrors+c.BareErrors > 0) {
			t.Errorf("%s: capacity %+v, want both measured without errors", s.Name, c)
		}
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gateway / bare proxy", "stream+tools", "capacity req/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestInstalledCopy: the cost run's targets start from a byte-equal, executable
// copy of the benchmark binary.
func TestInstalledCopy(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path, err := InstalledCopy(self, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(self)
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copy of %d bytes, binary %d (%v)", len(got), len(want), err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o100 == 0 {
		t.Fatalf("copy not executable: %v", fi.Mode())
	}
}
