package runner

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/detect"
)

// metrics are the detector's trailwatch_detect_* series. Labels come from
// bounded sets: rule ids, stream (main or a group_by signature), action
// types, topics and partitions.
type metrics struct {
	events       *prometheus.CounterVec // stream, phase
	rejected     *prometheus.CounterVec // stream
	alerts       *prometheus.CounterVec // rule
	actions      *prometheus.CounterVec // rule, type
	late         *prometheus.CounterVec // stream
	lateRule     *prometheus.CounterVec // rule
	evicted      *prometheus.CounterVec // rule
	overflow     *prometheus.CounterVec // rule
	suppressed   *prometheus.CounterVec // rule
	evalErrors   *prometheus.CounterVec // rule
	dupEvents    *prometheus.CounterVec // rule
	rekeyed      prometheus.Counter
	duplicates   prometheus.Counter
	unknownSig   prometheus.Counter
	retries      prometheus.Counter
	snapBytes    prometheus.Histogram
	snapSeconds  *prometheus.HistogramVec // phase: encode, write
	snapshots    *prometheus.CounterVec   // result
	recoveries   *prometheus.CounterVec   // source
	replayed     *prometheus.CounterVec   // stream
	commitLag    *prometheus.GaugeVec     // topic, partition
	process      prometheus.Histogram
	alertLatency prometheus.Histogram
	rulesInfo    *prometheus.GaugeVec // version
	rules        *prometheus.GaugeVec // stream
	reloads      *prometheus.CounterVec
	reloadOK     prometheus.Gauge

	state *stateCollector
}

var latencyBuckets = []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trailwatch_detect_" + name, Help: help}, labels)
	}
	m := &metrics{
		events:     counter("events_total", "Events processed, by stream (main or a group_by signature) and phase (live, or replay to rebuild state).", "stream", "phase"),
		rejected:   counter("rejected_total", "Messages that could not be decoded, written to the dead-letter topic and skipped, by stream.", "stream"),
		alerts:     counter("alerts_total", "Alerts emitted (acknowledgement pending), by rule.", "rule"),
		actions:    counter("actions_total", "Actions requested, by rule and type.", "rule", "type"),
		late:       counter("late_events_total", "Events older than the watermark (newest event time minus the allowed lateness) on arrival, by stream: single-event rules saw them, stateful rules did not.", "stream"),
		lateRule:   counter("late_rule_events_total", "Late events a stateful rule matched but did not take, by rule.", "rule"),
		evicted:    counter("evicted_total", "Group keys evicted at max_keys_per_rule, by rule.", "rule"),
		overflow:   counter("overflow_total", "Events dropped from a full window, sequence step or value list, by rule.", "rule"),
		suppressed: counter("suppressed_total", "Alerts withheld by suppression, by rule.", "rule"),
		evalErrors: counter("eval_errors_total", "Rule evaluations that failed (counted as false), by rule.", "rule"),
		dupEvents:  counter("duplicate_events_total", "Events a window, previous-event or sequence rule already held (the same id and time: ingest is at least once), counted once and skipped, by rule.", "rule"),
		rekeyed: prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_detect_rekeyed_total",
			Help: "Event copies written to the re-keyed topic for rules not grouped by person."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_detect_rekey_duplicates_total",
			Help: "Re-keyed copies dropped as duplicates (written again after a restart of their source partition)."}),
		unknownSig: prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_detect_rekey_unknown_total",
			Help: "Re-keyed copies for a group_by signature no loaded rule has (the rule was removed), skipped."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_detect_produce_retries_total",
			Help: "Output batches produced again after Kafka refused them."}),
		snapBytes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailwatch_detect_snapshot_bytes",
			Help: "Size of partition state snapshots.", Buckets: prometheus.ExponentialBuckets(1024, 4, 12)}),
		snapSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trailwatch_detect_snapshot_seconds",
			Help:    "Time to take a snapshot, by phase: encode (processing paused) and write (chunks and manifest acknowledged).",
			Buckets: latencyBuckets}, []string{"phase"}),
		snapshots:  counter("snapshots_total", "Snapshots, by result: written, failed, skipped (one still being written).", "result"),
		recoveries: counter("recoveries_total", "How a partition's state was rebuilt on assignment, by source: cache (kept since the last rebalance), snapshot, migrated (snapshot of other rules), replay (no snapshot: the longest rule span replayed), fresh (nothing to rebuild).", "source"),
		replayed:   counter("replayed_messages_total", "Messages processed to rebuild state without emitting, by stream.", "stream"),
		commitLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trailwatch_detect_commit_lag_messages",
			Help: "Messages processed but not yet committed (their outputs awaiting acknowledgement or the next commit), by partition."}, []string{"topic", "partition"}),
		process: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailwatch_detect_process_seconds",
			Help:    "Time to decode and evaluate one message and encode its outputs.",
			Buckets: []float64{1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, .001, .01, .1}}),
		alertLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailwatch_detect_alert_latency_seconds",
			Help:    "detected_at minus the Kafka timestamp (ingest time) of the event that triggered the alert.",
			Buckets: latencyBuckets}),
		rulesInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trailwatch_detect_rules_info",
			Help: "The running rule set: 1 for its version (fingerprint of the rules and detector configuration)."}, []string{"version"}),
		rules: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trailwatch_detect_rules",
			Help: "Enabled rules, by stream."}, []string{"stream"}),
		reloads: counter("rules_reloads_total", "Rule reloads, by result: ok, unchanged, error (the previous rules keep running).", "result"),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "trailwatch_detect_rules_last_reload_ok",
			Help: "1 if the last rule load succeeded, 0 if it failed (the previous rules are running)."}),
		state: &stateCollector{parts: map[string]detect.Stats{}},
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.events, m.rejected, m.alerts, m.actions, m.late, m.lateRule, m.evicted,
		m.overflow, m.suppressed, m.evalErrors, m.dupEvents, m.rekeyed, m.duplicates, m.unknownSig, m.retries, m.snapBytes,
		m.snapSeconds, m.snapshots, m.recoveries, m.replayed, m.commitLag, m.process, m.alertLatency, m.rulesInfo,
		m.rules, m.reloads, m.reloadOK, m.state} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registering detector metrics: %w", err)
	}
	return m, nil
}

// setVersion moves the rules gauges from old (nil at start) to set.
func (m *metrics) setVersion(old, set *Set) {
	if old != nil {
		m.rulesInfo.DeleteLabelValues(old.Version)
	}
	m.rulesInfo.WithLabelValues(set.Version).Set(1)
	m.rules.Reset()
	m.rules.WithLabelValues("main").Set(float64(len(set.Main.rules)))
	for _, sig := range set.sigs {
		m.rules.WithLabelValues(streamLabel(sig)).Set(float64(len(set.Rekeyed[sig].rules)))
	}
}

// counted turns a shard's cumulative counters into counter increments:
// a shard restored from a snapshot, or rebuilt by replaying what an
// earlier owner processed, carries counts this process must not export
// again, so each unit counts from a baseline the partition takes when it
// goes live (and again after a rules reload).
type counted struct {
	prev map[string]detect.RuleStats
}

// base takes st as the baseline.
func (c *counted) base(st detect.Stats) {
	c.prev = make(map[string]detect.RuleStats, len(st.Rules))
	for _, r := range st.Rules {
		c.prev[r.Rule] = r
	}
}

// add exports the increments since the baseline or the last add; without
// a baseline, st becomes it.
func (c *counted) add(m *metrics, st detect.Stats) {
	if c.prev == nil {
		c.base(st)
		return
	}
	for _, r := range st.Rules {
		p, ok := c.prev[r.Rule]
		delta := func(cur, prev uint64) float64 {
			if !ok || cur < prev {
				return 0
			}
			return float64(cur - prev)
		}
		m.evicted.WithLabelValues(r.Rule).Add(delta(r.Evicted, p.Evicted))
		m.overflow.WithLabelValues(r.Rule).Add(delta(r.Overflow, p.Overflow))
		m.suppressed.WithLabelValues(r.Rule).Add(delta(r.Suppressed, p.Suppressed))
		m.evalErrors.WithLabelValues(r.Rule).Add(delta(r.EvalErrors, p.EvalErrors))
		m.dupEvents.WithLabelValues(r.Rule).Add(delta(r.Duplicates, p.Duplicates))
		c.prev[r.Rule] = r
	}
}

// stateCollector reports the state held, summed over the partitions this
// member owns: keys and estimated bytes per rule, from each shard's latest
// Stats.
type stateCollector struct {
	mu    sync.Mutex
	parts map[string]detect.Stats // by partition and stream
}

var (
	keysDesc = prometheus.NewDesc("trailwatch_detect_keys",
		"Group keys held, by rule, over the partitions this detector owns.", []string{"rule"}, nil)
	bytesDesc = prometheus.NewDesc("trailwatch_detect_state_bytes",
		"Estimated heap bytes of rule state, by rule, over the partitions this detector owns.", []string{"rule"}, nil)
	partsDesc = prometheus.NewDesc("trailwatch_detect_shards",
		"Shards (partition and stream) this detector holds.", nil, nil)
)

func (c *stateCollector) set(unit string, st detect.Stats) {
	c.mu.Lock()
	c.parts[unit] = st
	c.mu.Unlock()
}

func (c *stateCollector) drop(unit string) {
	c.mu.Lock()
	delete(c.parts, unit)
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- keysDesc
	ch <- bytesDesc
	ch <- partsDesc
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	keys, bytes := map[string]float64{}, map[string]float64{}
	for _, st := range c.parts {
		for _, r := range st.Rules {
			keys[r.Rule] += float64(r.Keys)
			bytes[r.Rule] += float64(r.StateBytes)
		}
	}
	n := len(c.parts)
	c.mu.Unlock()
	for rule, v := range keys {
		ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, v, rule)
		ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.GaugeValue, bytes[rule], rule)
	}
	ch <- prometheus.MustNewConstMetric(partsDesc, prometheus.GaugeValue, float64(n))
}
