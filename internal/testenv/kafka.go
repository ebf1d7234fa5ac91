package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// KafkaBrokersEnv names the environment variable that points the tests at a
// real cluster (comma-separated host:port), as `make e2e` does.
// E2EKafkaBrokersEnv is the same, under the name scripts/e2e.sh documents;
// KafkaBrokersEnv wins when both are set.
const (
	KafkaBrokersEnv    = "TRAILWATCH_TEST_KAFKA_BROKERS"
	E2EKafkaBrokersEnv = "TRAILWATCH_E2E_KAFKA_BROKERS"
)

// externalBrokers is the real cluster the environment names, if any.
func externalBrokers() string {
	if b := os.Getenv(KafkaBrokersEnv); b != "" {
		return b
	}
	return os.Getenv(E2EKafkaBrokersEnv)
}

// KafkaEnv is a test's Kafka: a ready kafka.Config whose topics exist, and,
// on the embedded broker, the broker itself for fault injection.
type KafkaEnv struct {
	// Config reaches the test's brokers, with the project's topics (names
	// unique to the test on a shared cluster) and consumer-group timings
	// short enough for tests (sub-second rebalances).
	Config kafka.Config
	// Broker is the test's own embedded broker; nil on a real cluster.
	Broker *embedded.Kafka

	prefix string
}

type kafkaOptions struct {
	partitions int
	dataDir    string
}

// KafkaOption changes what Kafka starts.
type KafkaOption func(*kafkaOptions)

// KafkaPartitions sets the partitions of every project topic (default 4).
func KafkaPartitions(n int) KafkaOption {
	return func(o *kafkaOptions) { o.partitions = n }
}

// KafkaDataDir makes the embedded broker keep its log in dir, as
// `trailwatch run`'s does (in its data directory), instead of in memory.
// The in-memory log grows each segment by doubling a buffer, copied under
// a lock the broker's request loop waits on; a file does not, so
// measurements of what `trailwatch run` does need this.
func KafkaDataDir(dir string) KafkaOption {
	return func(o *kafkaOptions) { o.dataDir = dir }
}

// Kafka returns a Kafka for t: a fresh embedded broker on a loopback port,
// closed when t ends; or, when TRAILWATCH_TEST_KAFKA_BROKERS (or
// TRAILWATCH_E2E_KAFKA_BROKERS) is set, that
// cluster with topics named for t alone (deleted when t ends). Either way the
// project's topics exist when it returns.
func Kafka(t testing.TB, opts ...KafkaOption) KafkaEnv {
	t.Helper()
	o := kafkaOptions{partitions: 4}
	for _, opt := range opts {
		opt(&o)
	}

	cfg := kafka.DefaultConfig()
	cfg.ClientID = "trailwatch-test"
	cfg.Producer.BatchTimeout = time.Millisecond
	cfg.Consumer.HeartbeatInterval = 100 * time.Millisecond
	cfg.Consumer.SessionTimeout = 3 * time.Second
	cfg.Consumer.RebalanceTimeout = 5 * time.Second
	cfg.Consumer.ShutdownTimeout = 3 * time.Second
	cfg.Consumer.JoinBackoff = 100 * time.Millisecond
	cfg.ReadTimeout = 5 * time.Second
	cfg.WriteTimeout = 5 * time.Second
	cfg.DialTimeout = 5 * time.Second
	for _, tc := range topicPtrs(&cfg.Topics) {
		tc.Partitions = o.partitions
		tc.ReplicationFactor = -1
	}

	env := KafkaEnv{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if brokers := externalBrokers(); brokers != "" {
		cfg.Brokers = strings.Split(brokers, ",")
		env.prefix = uniquePrefix(t)
		for _, tc := range topicPtrs(&cfg.Topics) {
			tc.Name = env.prefix + tc.Name
		}
		if err := kafka.EnsureTopics(ctx, cfg); err != nil {
			t.Fatalf("creating test topics on %s: %v", brokers, err)
		}
		t.Cleanup(func() { deleteTopics(t, cfg) })
	} else {
		b, err := embedded.StartKafka(ctx, o.dataDir, embedded.KafkaConfig{Listen: "127.0.0.1:0"}, cfg.Topics, Logger(t))
		if err != nil {
			t.Fatalf("starting the embedded kafka broker: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		env.Broker = b
		cfg.Brokers = b.Brokers()
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test kafka config: %v", err)
	}
	env.Config = cfg
	return env
}

// Cluster returns the embedded kfake cluster for fault injection
// (ControlKey, Fault), and skips t on a real cluster, where faults cannot be
// injected.
func (e KafkaEnv) Cluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	if e.Broker == nil {
		t.Skipf("fault injection needs the embedded broker; %s points at a real cluster", KafkaBrokersEnv)
	}
	return e.Broker.Cluster()
}

// Group returns a consumer-group id for name, unique to the test on a
// shared cluster.
func (e KafkaEnv) Group(name string) string { return e.prefix + name }

// ReadTopic returns every message topic holds now, partition by partition
// in offset order. It reads with kafka-go, as the stages do. Its deadline
// bounds a hang only: hundreds of thousands of messages under the race
// detector on a loaded machine take minutes.
func (e KafkaEnv) ReadTopic(t testing.TB, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	client, err := e.Config.Client()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		t.Fatalf("reading metadata of %s: %v %v", topic, err, meta)
	}
	req := &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{}}
	var parts []int
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
		req.Topics[topic] = append(req.Topics[topic], kafkago.FirstOffsetOf(p.ID), kafkago.LastOffsetOf(p.ID))
	}
	slices.Sort(parts)
	offs, err := client.ListOffsets(ctx, req)
	if err != nil {
		t.Fatalf("listing offsets of %s: %v", topic, err)
	}
	bounds := map[int]kafkago.PartitionOffsets{}
	for _, p := range offs.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("listing offsets of %s/%d: %v", topic, p.Partition, p.Error)
		}
		bounds[p.Partition] = p
	}
	dialer, err := e.Config.Dialer()
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for _, p := range parts {
		b := bounds[p]
		if b.LastOffset <= b.FirstOffset {
			continue
		}
		r := kafkago.NewReader(kafkago.ReaderConfig{
			Brokers: e.Config.Brokers, Topic: topic, Partition: p, Dialer: dialer,
			MaxWait: 100 * time.Millisecond, MaxBytes: 8 << 20, ReadLagInterval: -1,
		})
		if err := r.SetOffset(b.FirstOffset); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("reading %s/%d: %v", topic, p, err)
			}
			out = append(out, m)
			if m.Offset >= b.LastOffset-1 {
				break
			}
		}
		r.Close()
	}
	return out
}

func topicPtrs(t *kafka.Topics) []*kafka.TopicConfig {
	return []*kafka.TopicConfig{&t.Activity, &t.DeadLetter, &t.Alerts, &t.Actions, &t.DetectState, &t.Rekeyed}
}

var notTopicChars = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// uniquePrefix names a test's topics and groups on a shared cluster: the
// test's name (for whoever lists the topics) and random bytes (for reruns).
func uniquePrefix(t testing.TB) string {
	name := strings.Trim(notTopicChars.ReplaceAllString(t.Name(), "-"), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "test-" + name + "-" + hex.EncodeToString(b[:]) + "-"
}

func deleteTopics(t testing.TB, cfg kafka.Config) {
	client, err := cfg.Client()
	if err != nil {
		t.Logf("deleting test topics: %v", err)
		return
	}
	var names []string
	for _, tc := range cfg.Topics.All() {
		names = append(names, tc.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: names}); err != nil {
		t.Logf("deleting test topics %v: %v", names, err)
	}
}
