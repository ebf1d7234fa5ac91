package kafka_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestProduceRoundTripAcksAll(t *testing.T) {
	env := testenv.Kafka(t)
	topic := env.Config.Topics.Activity.Name

	// Observe that every produce request asks for all in-sync replicas.
	acks := make(chan int16, 1000)
	if env.Broker != nil {
		env.Broker.Cluster().ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
			env.Broker.Cluster().KeepControl()
			select {
			case acks <- req.(*kmsg.ProduceRequest).Acks:
			default:
			}
			return nil, nil, false
		})
	}

	reg := prometheus.NewRegistry()
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 500
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{
			Topic:   topic,
			Key:     fmt.Appendf(nil, "tenant-a/person-%d", i%7),
			Value:   fmt.Appendf(nil, "event-%d", i),
			Headers: []kafka.Header{{Key: "schema", Value: []byte("v1")}},
		})
	}
	if err := p.Produce(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}

	got := env.ReadTopic(t, topic)
	if len(got) != n {
		t.Fatalf("read %d messages, want %d", len(got), n)
	}
	partitionOf := map[string]int{}
	values := map[string]bool{}
	for _, m := range got {
		if p, ok := partitionOf[string(m.Key)]; ok && p != m.Partition {
			t.Errorf("key %s in partitions %d and %d", m.Key, p, m.Partition)
		}
		partitionOf[string(m.Key)] = m.Partition
		values[string(m.Value)] = true
		if len(m.Headers) != 1 || string(m.Headers[0].Value) != "v1" {
			t.Errorf("message %s lost its header: %v", m.Value, m.Headers)
		}
	}
	if len(values) != n {
		t.Errorf("read %d distinct values, want %d", len(values), n)
	}
	if got := metricValue(t, reg, "trailwatch_kafka_producer_messages_total", map[string]string{"topic": topic}); got != n {
		t.Errorf("messages_total = %v, want %d", got, n)
	}
	if got := metricValue(t, reg, "trailwatch_kafka_producer_latency_seconds", nil); got != 1 {
		t.Errorf("latency observations = %v, want 1", got)
	}

	if env.Broker != nil {
		close(acks)
		count := 0
		for a := range acks {
			count++
			if a != -1 {
				t.Errorf("produce request with acks=%d, want -1 (all)", a)
			}
		}
		if count == 0 {
			t.Error("saw no produce request")
		}
	}
}

// TestProducerReportsErrors proves a producer never reports as delivered
// what the broker refused: a lasting failure comes back as WriteErrors,
// per message, and a passing one is retried inside.
func TestProducerReportsErrors(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	cluster := env.Cluster(t)
	topic := env.Config.Topics.Alerts.Name
	cfg := env.Config
	cfg.Producer.MaxAttempts = 3
	cfg.Producer.RetryBackoffMin = 5 * time.Millisecond
	cfg.Producer.RetryBackoffMax = 20 * time.Millisecond
	reg := prometheus.NewRegistry()
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msg := func(v string) kafka.Message { return kafka.Message{Topic: topic, Key: []byte("k"), Value: []byte(v)} }

	// A lasting failure: every attempt refused.
	lasting := cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: -1})
	err = p.Produce(t.Context(), msg("refused-1"), msg("refused-2"))
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) {
		t.Fatalf("Produce under a lasting fault returned %v, want WriteErrors", err)
	}
	if len(werrs) != 2 || werrs[0] == nil || werrs[1] == nil {
		t.Fatalf("WriteErrors = %v, want two failures", werrs)
	}
	if !errors.Is(werrs[0], kafkago.NotEnoughReplicas) {
		t.Errorf("per-message error = %v, want NOT_ENOUGH_REPLICAS", werrs[0])
	}
	if hits := lasting.Hits(); hits != 3 {
		t.Errorf("broker refused %d attempts, want max_attempts = 3", hits)
	}
	lasting.Remove()
	if got := metricValue(t, reg, "trailwatch_kafka_producer_errors_total", map[string]string{"topic": topic}); got != 2 {
		t.Errorf("errors_total = %v, want 2", got)
	}

	// A passing failure: the first two attempts refused, the third lands.
	cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: 2})
	if err := p.Produce(t.Context(), msg("retried")); err != nil {
		t.Fatalf("Produce under a passing fault: %v", err)
	}

	// A refusal that is not worth retrying is reported at once.
	cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.TopicAuthorizationFailed, Count: 1})
	if err := p.Produce(t.Context(), msg("unauthorized")); !errors.Is(err, kafkago.TopicAuthorizationFailed) {
		t.Fatalf("Produce refused for authorization returned %v", err)
	}

	if err := p.Produce(t.Context(), msg("after")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range env.ReadTopic(t, topic) {
		got = append(got, string(m.Value))
	}
	if want := []string{"retried", "after"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("topic holds %q, want %q: only acknowledged messages, each once", got, want)
	}
}

func TestProducerReady(t *testing.T) {
	env := testenv.Kafka(t)
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Ready(t.Context()); err != nil {
		t.Fatalf("Ready with the broker up: %v", err)
	}
	if env.Broker == nil {
		return
	}
	env.Broker.Close()
	if err := p.Ready(t.Context()); err == nil {
		t.Fatal("Ready with the broker down")
	}
}

func TestProducerRefusesOversizedMessage(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	cfg := env.Config
	cfg.Producer.BatchBytes = 4096
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	topic := cfg.Topics.Actions.Name
	err = p.Produce(t.Context(), kafka.Message{Topic: topic, Value: []byte("small")}, kafka.Message{Topic: topic, Value: make([]byte, 8192)})
	var tooLarge kafkago.MessageTooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("Produce returned %v, want MessageTooLargeError", err)
	}
	if n := len(env.ReadTopic(t, topic)); n != 0 {
		t.Errorf("topic holds %d messages after a refused call, want 0", n)
	}
}
