package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Producer is what the Publisher needs from Kafka; *kafka.Producer is one
// (acks=all: Produce returns nil only once every message is acknowledged by
// all in-sync replicas).
type Producer interface {
	Produce(ctx context.Context, msgs ...kafka.Message) error
}

// Resolver fills in the person behind an event's accounts (identity
// resolution, docs/IDENTITY.md); *identity.Resolver is one. It must be safe
// for concurrent use and must not keep the event.
type Resolver interface {
	Resolve(e *event.Event)
}

// Publisher makes batches durable: their events on the activity topic,
// their rejects on the dead-letter topic, and returns only when Kafka has
// acknowledged all of it. A collector acknowledges input to its sender
// (answers the request, advances its checkpoint) only after Publish
// returned nil. It is safe for concurrent use.
type Publisher struct {
	producer Producer
	dlq      *deadletter.Writer
	topic    string
	resolver Resolver
	m        *Metrics
	now      func() time.Time

	mu     sync.Mutex
	newest map[string]int64 // source -> newest event time acknowledged, Unix ms
}

// NewPublisher returns a Publisher producing through p to topics.Activity
// and topics.DeadLetter.
func NewPublisher(p Producer, topics kafka.Topics, reg prometheus.Registerer) (*Publisher, error) {
	if topics.Activity.Name == "" || topics.DeadLetter.Name == "" {
		return nil, errors.New("ingest publisher: the activity and dead-letter topics are required")
	}
	dlq, err := deadletter.NewWriter(p, topics.DeadLetter.Name, "ingest", reg)
	if err != nil {
		return nil, err
	}
	m, err := NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Publisher{producer: p, dlq: dlq, topic: topics.Activity.Name, m: m, now: time.Now, newest: map[string]int64{}}, nil
}

// SetResolver makes the batches created afterwards resolve every event
// with r before it is keyed and encoded: one place every collector's
// events pass, so the Kafka key is the person. Call it before the
// collectors start.
func (p *Publisher) SetResolver(r Resolver) { p.resolver = r }

// NewBatch returns an empty batch of source; its rejects say they came from
// origin (with their line).
func (p *Publisher) NewBatch(source string, origin deadletter.Origin) *Batch {
	return &Batch{
		source:  source,
		origin:  origin,
		topic:   p.topic,
		resolve: p.resolver,
		headers: []kafka.Header{{Key: HeaderSource, Value: []byte(source)}},
	}
}

// Publish produces b's events and dead letters, concurrently, and returns
// nil once Kafka acknowledged every one. On error nothing of b may be
// treated as done: part of it may be in Kafka, so a retry may publish some
// events twice, which their ids make harmless downstream.
func (p *Publisher) Publish(ctx context.Context, b *Batch) error {
	if len(b.msgs) == 0 && len(b.dead) == 0 {
		return nil
	}
	start := time.Now()
	var dlqErr error
	var wg sync.WaitGroup
	if len(b.dead) > 0 {
		wg.Go(func() {
			now := p.now()
			for i := range b.dead {
				b.dead[i].ReceivedAt = now
			}
			dlqErr = p.dlq.Write(ctx, b.dead...)
		})
	}
	var err error
	if len(b.msgs) > 0 {
		if err = p.producer.Produce(ctx, b.msgs...); err != nil {
			err = fmt.Errorf("publishing %d events of source %s: %w", len(b.msgs), b.source, err)
		}
	}
	wg.Wait()
	if err := errors.Join(err, dlqErr); err != nil {
		b.dirty = true // kafka-go may still hold the bytes when ctx ended first
		p.m.failures.WithLabelValues(b.source).Inc()
		return err
	}
	now := p.now()
	p.m.publish.WithLabelValues(b.source).Observe(now.Sub(start).Seconds())
	if n := len(b.msgs); n > 0 {
		p.m.accepted.WithLabelValues(b.source).Add(float64(n))
		lag := p.m.lag.WithLabelValues(b.source)
		newest := b.times[0]
		nowMs := now.UnixMilli()
		for _, t := range b.times {
			newest = max(newest, t)
			lag.Observe(float64(nowMs-t) / 1000)
		}
		p.mu.Lock()
		if newest > p.newest[b.source] {
			p.newest[b.source] = newest
			p.m.newest.WithLabelValues(b.source).Set(float64(newest) / 1000)
		}
		p.mu.Unlock()
	}
	for _, r := range b.rejects {
		p.m.rejected.WithLabelValues(b.source, r.Reason).Inc()
	}
	return nil
}
