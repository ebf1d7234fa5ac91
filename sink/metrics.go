package sink

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	rows        *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	insertTime  *prometheus.HistogramVec
	enriched    *prometheus.CounterVec
	shadow      *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	removed     *prometheus.CounterVec
	checkpoints prometheus.Counter
	resumes     prometheus.Counter
	cpErrors    prometheus.Counter
	skipped     *prometheus.CounterVec
	reloads     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_rows_total",
			Help: "Rows ClickHouse acknowledged, by table (copies of a redelivered batch included).",
		}, []string{"table"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_rejected_total",
			Help: "Kafka records the sink could not decode, sent to the dead-letter topic, by topic.",
		}, []string{"topic"}),
		insertTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trailwatch_sink_insert_seconds",
			Help:    "Time from preparing an insert to ClickHouse's acknowledgement, by table.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"table"}),
		enriched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_enriched_total",
			Help: "Events enriched, by kind (geo, directory).",
		}, []string{"kind"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_shadow_findings_total",
			Help: "Personal data found where it does not belong and stored masked, by kind (card_number, us_ssn, iban, passport_number, email, phone).",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_dropped_events_total",
			Help: "Events not stored because the tracking policy of their tenant and source drops them, by reason (level, object_excluded, object_not_included).",
		}, []string{"reason"}),
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_dropped_changes_total",
			Help: "Field changes removed from stored events by the tracking policy, by reason (field_excluded).",
		}, []string{"reason"}),
		checkpoints: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_sink_checkpoints_total",
			Help: "Signed integrity checkpoints stored.",
		}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_sink_chain_resumes_total",
			Help: "Chains resumed from ClickHouse (at start, and after a rebalance moved a partition).",
		}),
		cpErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_sink_checkpoint_errors_total",
			Help: "Checkpoint writes that failed (retried at the next interval).",
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_rollup_skipped_total",
			Help: "Rows stored with rollup_skip because the sink had stored their id already (a redelivered batch, an event sent twice), by table; the roll-ups do not count them again.",
		}, []string{"table"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_sink_recent_ids_reloads_total",
			Help: "Reloads of a partition's recently stored ids from ClickHouse (at start, and when a partition comes to the sink), by table.",
		}, []string{"table"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.rows, m.rejected, m.insertTime, m.enriched, m.shadow, m.dropped, m.removed, m.checkpoints, m.resumes, m.cpErrors, m.skipped, m.reloads} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("sink metrics are registered twice on one registry: one sink per registry")
			}
			return nil, fmt.Errorf("registering sink metrics: %w", err)
		}
	}
	return m, nil
}
