package jobs

import (
	"testing"
	"time"
)

// TestSchedulerRunsOnUTC: the scheduler both runners use reads cron specs in UTC,
// whatever the host's zone, so every host fires the daily rollup at 00:05 UTC.
func TestSchedulerRunsOnUTC(t *testing.T) {
	s, err := NewScheduler(nil, RollupKind(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.cron.Location() != time.UTC {
		t.Fatalf("cron location %v, want UTC", s.cron.Location())
	}
	s.Start()
	defer s.Stop()
	next := s.Next()
	if d := next["billing:rollup:day"]; d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 5 {
		t.Errorf("daily rollup next at %v, want 00:05 UTC", d)
	}
	if h := next["billing:rollup:hour"]; h.Location() != time.UTC || h.Minute() != 1 {
		t.Errorf("hourly rollup next at %v, want minute 1", h)
	}
}
