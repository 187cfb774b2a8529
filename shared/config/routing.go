package config

import (
	"fmt"
	"time"
)

// Balance tunes how the router picks among the backends of one tier of a model
// (replicas): by affinity of a conversation, session or prompt prefix to one
// replica, then by observed time to first byte and load (docs/routing.md).
type Balance struct {
	// AffinitySlack keeps a request on its affine replica while that replica's
	// cost (average time to first byte × (1 + requests in flight)) is at most
	// AffinitySlack × the best replica's cost + 50 ms; a slower replica gets
	// only probes. Default 3; 1 moves a key as soon as another replica is 50 ms
	// faster.
	AffinitySlack float64 `yaml:"affinity_slack"`
	// Affinity is "on" (default) or "off": off ignores affinity keys, and
	// replicas as fast as the best take turns (round robin).
	Affinity string `yaml:"affinity"`
	// ProbeShare is the share of requests sent to a replica that looks slower, so
	// that its recovery is noticed. Default 0.05; negative turns probes off.
	ProbeShare float64 `yaml:"probe_share"`
	// LatencyAlpha is the weight of a new time-to-first-byte sample in a
	// backend's average (0 < alpha <= 1). Default 0.3.
	LatencyAlpha float64 `yaml:"latency_alpha"`
	// DiscoverInterval is how often backends with discover: true are asked for
	// their models. Default 60s; negative asks only at start.
	DiscoverInterval Duration `yaml:"discover_interval"`
}

func (b *Balance) applyDefaults() {
	if b.Affinity == "" {
		b.Affinity = "on"
	}
	if b.AffinitySlack < 1 {
		b.AffinitySlack = 3
	}
	if b.ProbeShare == 0 {
		b.ProbeShare = 0.05
	}
	if b.ProbeShare < 0 {
		b.ProbeShare = 0
	}
	if b.LatencyAlpha <= 0 || b.LatencyAlpha > 1 {
		b.LatencyAlpha = 0.3
	}
	if b.DiscoverInterval.Duration == 0 {
		b.DiscoverInterval.Duration = 60 * time.Second
	}
}

// validate checks the values a typo could turn into something else.
func (b *Balance) validate() error {
	if b.Affinity != "on" && b.Affinity != "off" {
		return fmt.Errorf("routing.affinity: want on or off, got %q", b.Affinity)
	}
	return nil
}
