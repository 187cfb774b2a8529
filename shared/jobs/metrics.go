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

const depthHelp = "Tasks waiting in a job queue (pending, scheduled, retry)."

// ExportQueueDepth exports spass_queue_depth{queue} (tasks waiting: pending,
// scheduled and retrying) read from Redis at scrape time; NaN while Redis is down,
// so an alert on backlog does not mistake an outage for an empty queue.
func ExportQueueDepth(m GaugeRegistrar, redisURL string) (close func(), err error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, err
	}
	insp := asynq.NewInspector(opt)
	for q := range Queues() {
		m.Gauge("spass_queue_depth", depthHelp, prometheus.Labels{"queue": q}, func() float64 {
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

// ExportLocalQueueDepth exports the same spass_queue_depth{queue} for the
// in-process runner, so one dashboard reads either deployment.
func ExportLocalQueueDepth(m GaugeRegistrar, l *Local) {
	for q := range Queues() {
		m.Gauge("spass_queue_depth", depthHelp, prometheus.Labels{"queue": q}, func() float64 {
			return float64(l.Stats().Waiting[q])
		})
	}
}

// instruments are the middleware's: every attempt of every job, by task type.
type instruments struct {
	processed *prometheus.CounterVec
	failed    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// newInstruments registers the job instruments on reg (nil: a private registry,
// nothing exported). A second runner on the same registry shares them.
func newInstruments(reg prometheus.Registerer) *instruments {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &instruments{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_jobs_processed_total",
			Help: "Job attempts run, by task type (a retried job counts each attempt).",
		}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spass_jobs_failed_total",
			Help: "Job attempts that returned an error, by task type.",
		}, []string{"type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spass_job_duration_seconds",
			Help:    "Time one job attempt ran, by task type.",
			Buckets: []float64{.001, .01, .1, .5, 1, 5, 10, 30, 60, 300, 900},
		}, []string{"type"}),
	}
	m.processed = register(reg, m.processed)
	m.failed = register(reg, m.failed)
	m.duration = register(reg, m.duration)
	return m
}

// register registers c on reg, or returns the collector already there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a name clash with another instrument: a programming error
	}
	return c
}
