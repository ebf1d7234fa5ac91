package kafka_test

import (
	"testing"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// topicFacts reads a topic's partition count and cleanup.policy.
func topicFacts(t testing.TB, cfg kafka.Config, topic string) (partitions int, policy string) {
	t.Helper()
	client, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := client.Metadata(t.Context(), &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(meta.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	if meta.Topics[0].Error != nil {
		return 0, ""
	}
	desc, err := client.DescribeConfigs(t.Context(), &kafkago.DescribeConfigsRequest{Resources: []kafkago.DescribeConfigRequestResource{{
		ResourceType: kafkago.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"cleanup.policy"},
	}}})
	if err != nil || len(desc.Resources) != 1 || desc.Resources[0].Error != nil {
		t.Fatalf("configs of %s: %v %+v", topic, err, desc)
	}
	for _, e := range desc.Resources[0].ConfigEntries {
		if e.ConfigName == "cleanup.policy" {
			policy = e.ConfigValue
		}
	}
	return len(meta.Topics[0].Partitions), policy
}

func TestEnsureTopicsIdempotent(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(3))
	cfg := env.Config

	// testenv ran EnsureTopics once; running it again changes nothing.
	for range 2 {
		if err := kafka.EnsureTopics(t.Context(), cfg); err != nil {
			t.Fatalf("EnsureTopics on existing topics: %v", err)
		}
	}
	for _, tc := range cfg.Topics.All() {
		n, policy := topicFacts(t, cfg, tc.Name)
		wantPolicy := "delete"
		if tc.Compacted {
			wantPolicy = "compact"
		}
		if n != 3 || policy != wantPolicy {
			t.Errorf("%s: %d partitions, cleanup.policy %q; want 3, %q", tc.Name, n, policy, wantPolicy)
		}
	}

	// A new topic is created; an existing one is never repartitioned.
	more := cfg
	more.Topics.Activity.Partitions = 8
	more.Topics.DetectState.Name = env.Group("crm.detect.state2")
	more.Topics.DetectState.Partitions = 5
	if err := kafka.EnsureTopics(t.Context(), more); err != nil {
		t.Fatal(err)
	}
	if n, _ := topicFacts(t, cfg, cfg.Topics.Activity.Name); n != 3 {
		t.Errorf("existing topic now has %d partitions, want it left at 3", n)
	}
	if n, policy := topicFacts(t, cfg, more.Topics.DetectState.Name); n != 5 || policy != "compact" {
		t.Errorf("new topic: %d partitions, %q; want 5, compact", n, policy)
	}
}
