package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestObserveCountsEverySeries(t *testing.T) {
	m := New(prometheus.NewRegistry())
	const route = "POST /v1/chat/completions"
	m.Observe(route, "m", "sim", 200, time.Millisecond)
	m.Observe(route, "m", "sim", 200, time.Millisecond)
	m.Observe(route, "m", "sim", 502, time.Millisecond)
	tests := []struct {
		status string
		want   float64
	}{{"200", 2}, {"502", 1}}
	for _, tt := range tests {
		var c, h dto.Metric
		m.requests.WithLabelValues(route, "m", "sim", tt.status).(prometheus.Metric).Write(&c)
		m.latency.WithLabelValues(route, "m", "sim", tt.status).(prometheus.Metric).Write(&h)
		if got, n := c.GetCounter().GetValue(), h.GetHistogram().GetSampleCount(); got != tt.want || float64(n) != tt.want {
			t.Errorf("status %s: %v requests, %d latencies; want %v", tt.status, got, n, tt.want)
		}
	}
}

// TestBilledCountsEstimatedUsage: every committed row whose usage the gateway
// estimated is counted by route, and only those.
func TestBilledCountsEstimatedUsage(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.Billed(Bill{Tenant: "acme", Model: "m", Route: "chat", Prompt: 10, Completion: 5})
	m.Billed(Bill{Tenant: "acme", Model: "m", Route: "chat", Prompt: 10, Estimated: true})
	m.Billed(Bill{Tenant: "acme", Model: "m", Route: "chat", Prompt: 3, Completion: 1, Estimated: true})
	var c dto.Metric
	m.estimated.WithLabelValues("chat").(prometheus.Metric).Write(&c)
	if got := c.GetCounter().GetValue(); got != 2 {
		t.Fatalf("spass_usage_estimated_total{route=chat} = %v, want 2", got)
	}
}
