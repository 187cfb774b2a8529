package jobs

import (
	"errors"
	"math"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// GaugeRegistrar registers a gauge read at scrape time (metrics.Metrics.Gauge).
type GaugeRegistrar interface {
	Gauge(name, help string, labels prometheus.Labels, read func() float64)
}

// ExportQueueDepth exports spass_queue_depth{queue} (tasks waiting: pending,
// scheduled and retrying) read from Redis at scrape time; NaN while Redis is down,
// so an alert on backlog does not mistake an outage for an empty queue.
func ExportQueueDepth(m GaugeRegistrar, redisURL string) (close func(), err error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, err
	}
	insp := asynq.NewInspector(opt)
	for q := range Queues {
		m.Gauge("spass_queue_depth", "Tasks waiting in an asynq queue (pending, scheduled, retry).",
			prometheus.Labels{"queue": q}, func() float64 {
				info, err := insp.GetQueueInfo(q)
				if err != nil {
					if errors.Is(err, asynq.ErrQueueNotFound) {
						return 0 // the queue was never used
					}
					return math.NaN()
				}
				return float64(info.Pending + info.Scheduled + info.Retry)
			})
	}
	return func() { insp.Close() }, nil
}
