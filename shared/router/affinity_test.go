package router

import (
	"fmt"
	"testing"
)

// top returns the backend of names that key ranks first.
func top(key string, names []string) string {
	best := names[0]
	for _, n := range names[1:] {
		if hrw(key, n) > hrw(key, best) {
			best = n
		}
	}
	return best
}

func TestRendezvousMovesOnlyTheLeaversKeys(t *testing.T) {
	all := []string{"a", "b", "c"}
	count := map[string]int{}
	for i := range 3000 {
		k := fmt.Sprintf("conv-%d", i)
		was := top(k, all)
		count[was]++
		now := top(k, []string{"a", "c"}) // b left
		if was != "b" && now != was {
			t.Fatalf("key %s moved from %s to %s though %s stayed", k, was, now, was)
		}
	}
	for _, n := range all {
		if count[n] < 800 { // 1000 expected each
			t.Errorf("replica %s is first for %d of 3000 keys: %v", n, count[n], count)
		}
	}
}
