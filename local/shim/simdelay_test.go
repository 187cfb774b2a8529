package shim

import (
	"strings"
	"testing"
	"time"
)

// SPASS_SIM_TOKEN_DELAY sets the built-in simulator's pace; a bad value names it.
func TestSimTokenDelay(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
		err   bool
	}{{"", DefaultSimTokenDelay, false}, {"0", 0, false}, {"100ms", 100 * time.Millisecond, false}, {"fast", 0, true}, {"-1s", 0, true}} {
		got, err := simTokenDelay(func(k string) string {
			if k == SimTokenDelayEnv {
				return tt.value
			}
			return ""
		})
		if tt.err {
			if err == nil || !strings.HasPrefix(err.Error(), SimTokenDelayEnv+":") {
				t.Errorf("%q: error %v, want one naming %s", tt.value, err, SimTokenDelayEnv)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %v, %v; want %v", tt.value, got, err, tt.want)
		}
	}
}
