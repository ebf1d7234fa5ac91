package kafka

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// Several producers and consumers share one registry in `trailwatch run`,
// so each constructor registers its collectors or, when an identical one is
// there already, uses that: the series then sum over the process, split by
// the labels (topic, group, partition), all from bounded sets.

var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

type producerMetrics struct {
	messages *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	errors   *prometheus.CounterVec
	callSize prometheus.Histogram
	latency  prometheus.Histogram
	kgoErrs  prometheus.Counter
}

func newProducerMetrics(reg prometheus.Registerer) (*producerMetrics, error) {
	var m producerMetrics
	var errs [6]error
	m.messages, errs[0] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_producer_messages_total",
		Help: "Messages acknowledged by all in-sync replicas, by topic.",
	}, []string{"topic"}))
	m.bytes, errs[1] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_producer_bytes_total",
		Help: "Key and value bytes of acknowledged messages, by topic.",
	}, []string{"topic"}))
	m.errors, errs[2] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_producer_errors_total",
		Help: "Messages whose delivery failed after every retry (reported to the caller), by topic.",
	}, []string{"topic"}))
	m.callSize, errs[3] = telemetry.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trailwatch_kafka_producer_batch_size_messages",
		Help:    "Messages per Produce call (one caller batch).",
		Buckets: prometheus.ExponentialBuckets(1, 4, 9),
	}))
	m.latency, errs[4] = telemetry.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trailwatch_kafka_producer_latency_seconds",
		Help:    "Time from a Produce call to the acknowledgement of all its messages.",
		Buckets: latencyBuckets,
	}))
	m.kgoErrs, errs[5] = clientErrorCounter(reg, "producer")
	return &m, errors.Join(errs[:]...)
}

func clientErrorCounter(reg prometheus.Registerer, component string) (prometheus.Counter, error) {
	v, err := telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_client_errors_total",
		Help: "Errors kafka-go reported to its error logger (retried internally), by component.",
	}, []string{"component"}))
	if err != nil {
		return nil, err
	}
	return v.WithLabelValues(component), nil
}

type consumerMetrics struct {
	messages      *prometheus.CounterVec
	bytes         *prometheus.CounterVec
	lag           *prometheus.GaugeVec
	fetchLag      *prometheus.GaugeVec
	commits       *prometheus.CounterVec
	commitErrors  *prometheus.CounterVec
	handlerErrors *prometheus.CounterVec
	batchSize     *prometheus.HistogramVec
	handlerTime   *prometheus.HistogramVec
	generations   *prometheus.CounterVec
	assigned      *prometheus.GaugeVec
	offsetResets  *prometheus.CounterVec
	kgoErrs       prometheus.Counter
}

func newConsumerMetrics(reg prometheus.Registerer) (*consumerMetrics, error) {
	var m consumerMetrics
	var errs [13]error
	m.messages, errs[0] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_messages_total",
		Help: "Messages fetched, by consumer group and topic.",
	}, []string{"group", "topic"}))
	m.bytes, errs[1] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_bytes_total",
		Help: "Key and value bytes fetched, by consumer group and topic.",
	}, []string{"group", "topic"}))
	m.lag, errs[2] = telemetry.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trailwatch_kafka_consumer_lag_messages",
		Help: "Messages between the group's committed offset and the partition's high watermark (what a crash would redo), for the partitions this process owns.",
	}, []string{"group", "topic", "partition"}))
	m.fetchLag, errs[3] = telemetry.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trailwatch_kafka_consumer_fetch_lag_messages",
		Help: "Messages between the last fetched message and the partition's high watermark, for the partitions this process owns.",
	}, []string{"group", "topic", "partition"}))
	m.commits, errs[4] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_commits_total",
		Help: "Offset commits acknowledged by the group coordinator, by group.",
	}, []string{"group"}))
	m.commitErrors, errs[5] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_commit_errors_total",
		Help: "Offset commits that failed (the messages will be delivered again), by group.",
	}, []string{"group"}))
	m.handlerErrors, errs[6] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_handler_errors_total",
		Help: "Batches whose handler failed and were retried without committing, by group.",
	}, []string{"group"}))
	m.batchSize, errs[7] = telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_kafka_consumer_batch_size_messages",
		Help:    "Messages per batch handed to a batch handler, by group.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 9),
	}, []string{"group"}))
	m.handlerTime, errs[8] = telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_kafka_consumer_handler_seconds",
		Help:    "Time a batch handler took, successful or not, by group.",
		Buckets: latencyBuckets,
	}, []string{"group"}))
	m.generations, errs[9] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_rebalances_total",
		Help: "Consumer-group generations this process joined (each follows a rebalance), by group.",
	}, []string{"group"}))
	m.assigned, errs[10] = telemetry.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trailwatch_kafka_consumer_assigned_partitions",
		Help: "Partitions this process owns now, by group.",
	}, []string{"group"}))
	m.offsetResets, errs[11] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_kafka_consumer_offset_resets_total",
		Help: "Assignments whose committed offset was outside the log (deleted by retention, or topic recreated) and restarted at the log start, by group and topic.",
	}, []string{"group", "topic"}))
	m.kgoErrs, errs[12] = clientErrorCounter(reg, "consumer")
	return &m, errors.Join(errs[:]...)
}
