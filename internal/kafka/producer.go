package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"
)

// Message is a Kafka message as kafka-go carries it. To produce, set Topic,
// Key and Value (and Headers if any); the partition comes from the key.
type Message = kafkago.Message

// Header is a Kafka record header.
type Header = kafkago.Header

// WriteErrors is what Produce wraps when some messages of a call failed:
// one entry per message, in the order given, nil for the delivered ones.
type WriteErrors = kafkago.WriteErrors

// Producer publishes messages and returns only once every one of them is
// acknowledged by all in-sync replicas (acks=all). Concurrent calls share
// the partition batches, so many small callers still make large requests.
// It is safe for concurrent use.
type Producer struct {
	w      *kafkago.Writer
	conn   *conn
	client *kafkago.Client
	m      *producerMetrics
}

// NewProducer returns a Producer for the cluster cfg describes. Messages
// with the same key go to the same partition, with the partitioner of the
// Java client and librdkafka (murmur2), so other producers of the same
// topics agree with ours.
func NewProducer(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Producer, error) {
	k, err := cfg.connect()
	if err != nil {
		return nil, err
	}
	m, err := newProducerMetrics(reg)
	if err != nil {
		return nil, err
	}
	codec, _ := compressionCodec(cfg.Producer.Compression) // checked by Validate
	log = log.With().Str("client", "kafka-producer").Logger()
	w := &kafkago.Writer{
		Addr:            k.addr,
		Balancer:        &kafkago.Murmur2Balancer{},
		MaxAttempts:     cfg.Producer.MaxAttempts,
		WriteBackoffMin: cfg.Producer.RetryBackoffMin,
		WriteBackoffMax: cfg.Producer.RetryBackoffMax,
		BatchSize:       cfg.Producer.BatchSize,
		BatchBytes:      cfg.Producer.BatchBytes,
		BatchTimeout:    cfg.Producer.BatchTimeout,
		ReadTimeout:     cfg.ReadTimeout,
		WriteTimeout:    cfg.WriteTimeout,
		RequiredAcks:    kafkago.RequireAll,
		Async:           false,
		Compression:     codec,
		Logger:          debugLogger(log),
		ErrorLogger:     errorLogger(log, m.kgoErrs),
		Transport:       k.transport,
		// Topics are created by EnsureTopics with their configured
		// partitions; auto-creation would use the broker's defaults.
		AllowAutoTopicCreation: false,
	}
	return &Producer{w: w, conn: k, client: k.client(cfg), m: m}, nil
}

// Produce publishes msgs and returns nil once all of them are acknowledged
// by all in-sync replicas. Each message must name its Topic.
//
// On failure nothing is reported as delivered that was not: the error wraps
// WriteErrors (errors.As) with one entry per message, nil for those that were
// acknowledged, so the caller can retry or dead-letter exactly the others;
// a message larger than producer.batch_bytes fails the call before anything
// is sent (kafka-go's MessageTooLargeError). If ctx ends first, Produce
// returns ctx's error and the messages may or may not be delivered: treat
// them as failed (a retry may duplicate, which ids make harmless), and do not
// reuse their byte slices, which kafka-go may still be sending.
func (p *Producer) Produce(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	start := time.Now()
	err := p.w.WriteMessages(ctx, msgs...)
	p.m.latency.Observe(time.Since(start).Seconds())
	p.m.callSize.Observe(float64(len(msgs)))

	var werrs WriteErrors
	if err != nil && !errors.As(err, &werrs) {
		// Nothing is known to be delivered.
		p.count(msgs, func(int) bool { return false })
		return fmt.Errorf("producing %d messages: %w", len(msgs), err)
	}
	p.count(msgs, func(i int) bool { return werrs == nil || werrs[i] == nil })
	if err != nil {
		return &produceError{n: len(msgs), werrs: werrs}
	}
	return nil
}

// produceError is a call's partial failure. It unwraps to the WriteErrors
// (errors.As) and to each distinct cause (errors.Is(err,
// kafkago.NotEnoughReplicas)), which kafka-go's WriteErrors alone does not.
type produceError struct {
	n     int
	werrs WriteErrors
}

func (e *produceError) Error() string {
	return fmt.Sprintf("producing %d messages: %d failed: %v", e.n, e.werrs.Count(), e.causes())
}

func (e *produceError) Unwrap() []error { return append([]error{e.werrs}, e.causes()...) }

func (e *produceError) causes() []error {
	var out []error
	for _, err := range e.werrs {
		if err != nil && !slices.ContainsFunc(out, func(o error) bool { return o.Error() == err.Error() }) {
			out = append(out, err)
		}
	}
	return out
}

// count adds msgs to the per-topic counters; ok says which were delivered.
// Runs of one topic share a label lookup: most calls carry one topic.
func (p *Producer) count(msgs []Message, ok func(int) bool) {
	var (
		topic          string
		n, bytes, errs int
	)
	flush := func() {
		if n > 0 {
			p.m.messages.WithLabelValues(topic).Add(float64(n))
			p.m.bytes.WithLabelValues(topic).Add(float64(bytes))
		}
		if errs > 0 {
			p.m.errors.WithLabelValues(topic).Add(float64(errs))
		}
		n, bytes, errs = 0, 0, 0
	}
	for i := range msgs {
		if msgs[i].Topic != topic {
			flush()
			topic = msgs[i].Topic
		}
		if ok(i) {
			n++
			bytes += len(msgs[i].Key) + len(msgs[i].Value)
		} else {
			errs++
		}
	}
	flush()
}

// Ready reports nil when a broker answers, for a readiness check. (It asks
// for API versions: kafka-go answers metadata requests from its cache.)
func (p *Producer) Ready(ctx context.Context) error {
	if _, err := p.client.ApiVersions(ctx, &kafkago.ApiVersionsRequest{}); err != nil {
		return fmt.Errorf("kafka brokers unreachable: %w", err)
	}
	return nil
}

// Close flushes what is pending and releases the connections.
func (p *Producer) Close() error {
	err := p.w.Close()
	p.conn.close()
	if err != nil {
		return fmt.Errorf("closing kafka producer: %w", err)
	}
	return nil
}
