package deadletter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// Publisher is what the Writer needs from a producer; *kafka.Producer is
// one.
type Publisher interface {
	Produce(ctx context.Context, msgs ...kafka.Message) error
}

// Writer publishes dead-letter records for one stage.
type Writer struct {
	p         Publisher
	topic     string
	stage     string
	now       func() time.Time
	records   prometheus.Counter
	truncated prometheus.Counter
}

// NewWriter returns a Writer publishing stage's rejects to topic through p.
func NewWriter(p Publisher, topic, stage string, reg prometheus.Registerer) (*Writer, error) {
	if topic == "" || stage == "" {
		return nil, errors.New("dead-letter writer: topic and stage are required")
	}
	records := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_deadletter_records_total",
		Help: "Rejected inputs written to the dead-letter topic and acknowledged, by stage.",
	}, []string{"stage"})
	truncated := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_deadletter_truncated_total",
		Help: "Dead-letter records whose input was cut to the first 512 KiB, by stage.",
	}, []string{"stage"})
	var errs [2]error
	records, errs[0] = telemetry.Register(reg, records)
	truncated, errs[1] = telemetry.Register(reg, truncated)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("dead-letter metrics: %w", err)
	}
	return &Writer{
		p: p, topic: topic, stage: stage, now: time.Now,
		records:   records.WithLabelValues(stage),
		truncated: truncated.WithLabelValues(stage),
	}, nil
}

// Write publishes one record per reject and returns once Kafka has
// acknowledged all of them; on error, the caller must not treat the rejects
// as handled (an ingest request fails, a consumer does not commit).
func (w *Writer) Write(ctx context.Context, rejects ...Reject) error {
	if len(rejects) == 0 {
		return nil
	}
	now := w.now()
	msgs := make([]kafka.Message, len(rejects))
	truncated := 0
	for i, r := range rejects {
		rec := NewRecord(w.stage, r, MaxRaw, now)
		if rec.RawTruncated {
			truncated++
		}
		b, err := json.Marshal(rec)
		if err != nil { // only strings, numbers and times: cannot fail
			return fmt.Errorf("encoding dead-letter record: %w", err)
		}
		msgs[i] = kafka.Message{Topic: w.topic, Key: r.Key, Value: b}
	}
	if err := w.p.Produce(ctx, msgs...); err != nil {
		return fmt.Errorf("writing %d dead-letter records: %w", len(msgs), err)
	}
	w.records.Add(float64(len(msgs)))
	w.truncated.Add(float64(truncated))
	return nil
}
