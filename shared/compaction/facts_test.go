package compaction

import (
	"slices"
	"strings"
	"testing"
)

func TestExtractKeepsDurableSentences(t *testing.T) {
	got := Extract([]string{
		"Hi there. Remember: my locker code is 4417. Nice weather today!",
		"We decided to ship on Friday; the budget is 1200 euros.",
		"ok",
	})
	want := []string{"Remember: my locker code is 4417", "We decided to ship on Friday", "the budget is 1200 euros"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMergeDedupesAndRanksWithinBudget(t *testing.T) {
	old := []string{"Remember: my locker code is 4417"}
	fresh := []string{"You said: Remember: my locker code is 4417", "Turn 12 asked about trains", "Turn 13 asked about ships"}
	got := Merge(old, fresh, 80)
	if len(got) != 2 || !strings.Contains(got[0], "4417") || got[1] != "Turn 12 asked about trains" {
		t.Fatalf("merged %q", got)
	}
	// A tight budget keeps the best scored fact, not the newest.
	if got := Merge(got, []string{"Turn 14 asked about planes"}, 50); len(got) != 1 || !strings.Contains(got[0], "4417") {
		t.Fatalf("under a small budget: %q", got)
	}
}
