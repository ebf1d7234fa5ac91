package runner

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// Keys of the outputs. Alerts are keyed by tenant and group, so an alert
// consumer can scale out while one group's alerts stay in order. Actions
// are keyed by tenant alone: the responder's per-tenant circuit breaker
// needs every action of a tenant in one responder.

// alertKey is the tenant and the group values in group_by order... which a
// map does not keep, so in key order: the same group always gives the same
// key, which is all partitioning needs.
func alertKey(dst []byte, a *alert.Alert) []byte {
	dst = append(dst, a.Tenant...)
	keys := make([]string, 0, len(a.Group))
	for k := range a.Group {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = append(dst, 0)
		dst = append(dst, k...)
		dst = append(dst, '=')
		dst = append(dst, a.Group[k]...)
	}
	return dst
}

// encoder turns the engine's outputs into messages.
type encoder struct {
	alerts, actions string
	maxBytes        int // the producer's largest message
	now             func() time.Time
}

// encoded is one output, ready to produce, or an output too large to
// produce, which goes to the dead-letter topic instead of stalling the
// partition.
type encoded struct {
	msg      kafka.Message
	tooLarge *deadletter.Reject
}

// encodeAlert stamps the alert's detected_at with the wall clock (the
// engine leaves it at the trigger's event time) and encodes it.
func (c *encoder) encodeAlert(a *alert.Alert) (encoded, error) {
	a.DetectedAt = c.now().UTC()
	return c.encode(c.alerts, alertKey(nil, a), a)
}

func (c *encoder) encodeAction(a *alert.Action) (encoded, error) {
	return c.encode(c.actions, []byte(a.Tenant), a)
}

func (c *encoder) encode(topic string, key []byte, v any) (encoded, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return encoded{}, fmt.Errorf("encoding an output for %s: %w", topic, err)
	}
	// Headroom for the record's framing within the batch.
	if len(b)+len(key)+512 > c.maxBytes {
		return encoded{tooLarge: &deadletter.Reject{
			Raw: b, Key: key,
			Reason: fmt.Sprintf("output for %s is %d bytes, more than kafka.producer.batch_bytes (%d) allows", topic, len(b), c.maxBytes),
		}}, nil
	}
	return encoded{msg: kafka.Message{Topic: topic, Key: key, Value: b}}, nil
}

// outputRule names the rule behind an action for the metrics: the alert
// that requested it precedes it in the outputs.
func outputRule(outs []detect.Output, i int) string {
	for j := i; j >= 0; j-- {
		if outs[j].Kind == detect.OutputAlert {
			return outs[j].Alert.Rule.ID
		}
	}
	return ""
}
