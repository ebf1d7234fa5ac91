package testenv_test

import (
	"strings"
	"testing"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/internal/testenv"
)

// TestKafkaSharedCluster runs the TRAILWATCH_TEST_KAFKA_BROKERS path
// against an embedded broker standing in for the shared cluster: topics
// and groups are named for the test, created, and deleted afterwards.
func TestKafkaSharedCluster(t *testing.T) {
	t.Setenv(testenv.KafkaBrokersEnv, "")
	shared := testenv.Kafka(t)
	t.Setenv(testenv.KafkaBrokersEnv, strings.Join(shared.Config.Brokers, ","))

	var names []string
	t.Run("a test on the shared cluster", func(t *testing.T) {
		env := testenv.Kafka(t, testenv.KafkaPartitions(2))
		if env.Broker != nil {
			t.Fatal("started a broker of its own despite the environment variable")
		}
		if g := env.Group("sink"); !strings.HasPrefix(g, "test-") || !strings.HasSuffix(g, "-sink") {
			t.Errorf("group %q is not unique to the test", g)
		}
		for _, tc := range env.Config.Topics.All() {
			if !strings.HasPrefix(tc.Name, "test-TestKafkaSharedCluster-a-test-on-the-shared-cluster-") {
				t.Errorf("topic %q is not named for the test", tc.Name)
			}
			names = append(names, tc.Name)
		}
		client, err := env.Config.Client()
		if err != nil {
			t.Fatal(err)
		}
		meta, err := client.Metadata(t.Context(), &kafkago.MetadataRequest{Topics: names})
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range meta.Topics {
			if tp.Error != nil || len(tp.Partitions) != 2 {
				t.Errorf("topic %s: %v, %d partitions; want it created with 2", tp.Name, tp.Error, len(tp.Partitions))
			}
		}
	})

	// The subtest's cleanup deleted its topics; a fresh client sees them gone.
	client, err := shared.Config.Client()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := client.Metadata(t.Context(), &kafkago.MetadataRequest{Topics: names})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range meta.Topics {
		if tp.Error == nil {
			t.Errorf("topic %s still exists after its test ended", tp.Name)
		}
	}
}

// TestKafkaE2EBrokers: TRAILWATCH_E2E_KAFKA_BROKERS, the name scripts/e2e.sh
// documents, selects the shared-cluster path too.
func TestKafkaE2EBrokers(t *testing.T) {
	t.Setenv(testenv.KafkaBrokersEnv, "")
	t.Setenv(testenv.E2EKafkaBrokersEnv, "")
	shared := testenv.Kafka(t)
	t.Setenv(testenv.E2EKafkaBrokersEnv, strings.Join(shared.Config.Brokers, ","))
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	if env.Broker != nil {
		t.Fatal("started a broker of its own despite TRAILWATCH_E2E_KAFKA_BROKERS")
	}
	if !strings.HasPrefix(env.Config.Topics.Activity.Name, "test-TestKafkaE2EBrokers-") {
		t.Errorf("topic %q is not named for the test", env.Config.Topics.Activity.Name)
	}
}
