package kafka_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := kafka.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*kafka.Config)
		want   []string // substrings, each in the error
	}{
		{"no brokers", func(c *kafka.Config) { c.Brokers = nil }, []string{"kafka.brokers: at least one broker is required"}},
		{"broker without port", func(c *kafka.Config) { c.Brokers = []string{"kafka1"} }, []string{"kafka.brokers[0]"}},
		{"broker bad port", func(c *kafka.Config) { c.Brokers = []string{"ok:9092", "kafka2:99999"} }, []string{"kafka.brokers[1]"}},
		{"tls files without tls", func(c *kafka.Config) { c.TLS.CAFile = "ca.pem" }, []string{"kafka.tls.enabled"}},
		{"cert without key", func(c *kafka.Config) { c.TLS = kafka.TLSConfig{Enabled: true, CertFile: "c.pem"} }, []string{"kafka.tls: cert_file and key_file"}},
		{"unknown sasl", func(c *kafka.Config) { c.SASL.Mechanism = "gssapi" }, []string{`kafka.sasl.mechanism: "gssapi"`}},
		{"sasl without user or password", func(c *kafka.Config) { c.SASL.Mechanism = kafka.SASLScramSHA512 }, []string{"kafka.sasl.username", "password_file or password_env"}},
		{"sasl with two passwords", func(c *kafka.Config) {
			c.SASL = kafka.SASLConfig{Mechanism: kafka.SASLPlain, Username: "u", PasswordFile: "f", PasswordEnv: "E"}
		}, []string{"not both"}},
		{"credentials without mechanism", func(c *kafka.Config) { c.SASL.Username = "u" }, []string{"kafka.sasl.mechanism"}},
		{"bad topic name", func(c *kafka.Config) { c.Topics.Alerts.Name = "crm alerts" }, []string{"kafka.topics.alerts.name", "' '"}},
		{"no activity topic", func(c *kafka.Config) { c.Topics.Activity.Name = "" }, []string{"kafka.topics.activity.name: required"}},
		{"colliding topics", func(c *kafka.Config) { c.Topics.Alerts.Name = "crm_activity" }, []string{`"crm_activity" collides with topics.activity`}},
		{"zero partitions", func(c *kafka.Config) { c.Topics.Actions.Partitions = 0 }, []string{"kafka.topics.actions.partitions"}},
		{"zero replication", func(c *kafka.Config) { c.Topics.Actions.ReplicationFactor = 0 }, []string{"kafka.topics.actions.replication_factor"}},
		{"no batch timeout", func(c *kafka.Config) { c.Producer.BatchTimeout = 0 }, []string{"kafka.producer.batch_timeout"}},
		{"bad compression", func(c *kafka.Config) { c.Producer.Compression = "brotli" }, []string{"kafka.producer.compression"}},
		{"heartbeat too slow", func(c *kafka.Config) { c.Consumer.HeartbeatInterval = 5 * time.Second }, []string{"kafka.consumer.heartbeat_interval"}},
		{"shutdown longer than rebalance", func(c *kafka.Config) { c.Consumer.ShutdownTimeout = time.Minute }, []string{"kafka.consumer.shutdown_timeout"}},
		{"bad start", func(c *kafka.Config) { c.Consumer.StartOffset = "middle" }, []string{"kafka.consumer.start_offset"}},
		{"no timeouts", func(c *kafka.Config) { c.DialTimeout, c.ReadTimeout = 0, -1 }, []string{"kafka.dial_timeout", "kafka.read_timeout"}},
		{"everything at once", func(c *kafka.Config) {
			c.Brokers = nil
			c.Producer.MaxAttempts = 0
			c.Consumer.MinBytes = 0
		}, []string{"kafka.brokers", "kafka.producer.max_attempts", "kafka.consumer.min_bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := kafka.DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var joined interface{ Unwrap() []error }
			if tc.name == "everything at once" && (!errors.As(err, &joined) || len(joined.Unwrap()) != 3) {
				t.Errorf("reported %v, want 3 separate problems", err)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
brokers: [kafka-1:9093, kafka-2:9093]
client_id: trailwatch-prod
tls: {enabled: true, ca_file: /etc/trailwatch/ca.pem}
sasl: {mechanism: scram-sha-512, username: trailwatch, password_env: KAFKA_PASSWORD}
topics:
  activity: {name: crm.activity, partitions: 48, replication_factor: 3, retention: 720h}
producer: {batch_timeout: 2ms, compression: zstd}
consumer: {session_timeout: 45s, heartbeat_interval: 3s}
`
	c := kafka.DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Producer.BatchTimeout != 2*time.Millisecond || c.Topics.Activity.Retention != 720*time.Hour || c.Consumer.SessionTimeout != 45*time.Second {
		t.Errorf("durations decoded as %s, %s, %s", c.Producer.BatchTimeout, c.Topics.Activity.Retention, c.Consumer.SessionTimeout)
	}
	if c.Topics.Alerts.Name != "crm.alerts" || c.Producer.BatchSize != kafka.DefaultConfig().Producer.BatchSize {
		t.Error("settings absent from the file lost their defaults")
	}
}

// TestConfigTags checks the convention of docs/CONTRIBUTING.md: every
// setting has a snake_case yaml name and a doc sentence.
func TestConfigTags(t *testing.T) {
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := f.Tag.Get("yaml")
			if name == "" || name != strings.ToLower(name) || strings.Contains(name, "-") {
				t.Errorf("%s%s: yaml tag %q", path, f.Name, name)
			}
			if doc := f.Tag.Get("doc"); !strings.HasSuffix(doc, ".") || len(doc) < 10 {
				t.Errorf("%s%s: doc tag %q is not a sentence", path, f.Name, doc)
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
				walk(f.Type, path+name+".")
			}
		}
	}
	walk(reflect.TypeOf(kafka.Config{}), "kafka.")
}
