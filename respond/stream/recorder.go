package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Publisher is what the Recorder needs from a producer; *kafka.Producer is
// one (acks=all, synchronous).
type Publisher interface {
	Produce(ctx context.Context, msgs ...kafka.Message) error
}

// Recorder appends action records to the actions topic, keyed by tenant:
// the executor's status records, and the on-call commands' approvals,
// rejections and undos. It implements respond.Recorder.
type Recorder struct {
	p     Publisher
	topic string
}

// NewRecorder returns a Recorder writing to topic through p.
func NewRecorder(p Publisher, topic string) (*Recorder, error) {
	if p == nil || topic == "" {
		return nil, errors.New("action recorder: a producer and a topic are required")
	}
	return &Recorder{p: p, topic: topic}, nil
}

// Record appends rec and returns once every in-sync replica has it. The
// key is the tenant, as for the detector's requests: one partition then
// holds every record of a tenant's actions, in order.
func (r *Recorder) Record(ctx context.Context, rec alert.Action) error {
	if rec.Tenant == "" {
		return fmt.Errorf("recording action %s: no tenant to key it by", rec.ID)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding action %s: %w", rec.ID, err)
	}
	if err := r.p.Produce(ctx, kafka.Message{Topic: r.topic, Key: []byte(rec.Tenant), Value: b}); err != nil {
		return fmt.Errorf("recording action %s (%s): %w", rec.ID, rec.Status, err)
	}
	return nil
}
