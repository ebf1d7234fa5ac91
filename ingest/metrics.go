package ingest

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// Metrics are the per-source ingest metrics every collector shares. The
// source label takes configured source names only, and reason the bounded
// set of Reason, so the series stay few.
type Metrics struct {
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
	newest   *prometheus.GaugeVec
	lag      *prometheus.HistogramVec
	publish  *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

// NewMetrics registers the ingest metrics on reg, or finds them there when
// another collector of the process registered them first. A nil reg keeps
// them unregistered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	var m Metrics
	var errs [6]error
	m.accepted, errs[0] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_events_accepted_total",
		Help: "Events published to the activity topic and acknowledged by Kafka, by source.",
	}, []string{"source"}))
	m.rejected, errs[1] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_events_rejected_total",
		Help: "Records refused and written to the dead-letter topic (acknowledged), by source and reason.",
	}, []string{"source", "reason"}))
	m.newest, errs[2] = telemetry.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trailwatch_ingest_newest_event_timestamp_seconds",
		Help: "Event time of the newest event acknowledged, by source; time() minus it is how far behind the source is.",
	}, []string{"source"}))
	m.lag, errs[3] = telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_ingest_event_lag_seconds",
		Help:    "Time from an event's timestamp to its acknowledgement by Kafka, by source.",
		Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600},
	}, []string{"source"}))
	m.publish, errs[4] = telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_ingest_publish_duration_seconds",
		Help:    "Time to publish one batch (events and dead letters) until Kafka acknowledged all of it, by source.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
	}, []string{"source"}))
	m.failures, errs[5] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_publish_failures_total",
		Help: "Batches Kafka did not acknowledge (the sender retries; nothing of them is counted as accepted), by source.",
	}, []string{"source"}))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &m, nil
}
