package kafka

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is how every stage reaches Kafka: the brokers, how to secure and
// authenticate the connection, the project's topics, and the tuning of the
// producers and consumers built from it.
type Config struct {
	Brokers  []string       `yaml:"brokers" doc:"Bootstrap brokers as host:port; one reachable broker is enough to discover the rest."`
	ClientID string         `yaml:"client_id" doc:"Client id sent to the brokers, shown in their logs and quotas."`
	TLS      TLSConfig      `yaml:"tls" doc:"TLS for connections to the brokers."`
	SASL     SASLConfig     `yaml:"sasl" doc:"SASL authentication (PLAIN or SCRAM)."`
	Topics   Topics         `yaml:"topics" doc:"The project's topics: names, and how to create them when missing."`
	Producer ProducerConfig `yaml:"producer" doc:"Producer batching, compression and retries."`
	Consumer ConsumerConfig `yaml:"consumer" doc:"Consumer fetching and consumer-group timing."`

	DialTimeout  time.Duration `yaml:"dial_timeout" doc:"Time allowed to open a connection to a broker (TLS and SASL included)."`
	ReadTimeout  time.Duration `yaml:"read_timeout" doc:"Time allowed for a broker to answer a request (produce, commit, metadata)."`
	WriteTimeout time.Duration `yaml:"write_timeout" doc:"Time allowed to send a request to a broker."`
}

// TLSConfig secures the connections to the brokers.
type TLSConfig struct {
	Enabled    bool   `yaml:"enabled" doc:"Connect to the brokers over TLS."`
	CAFile     string `yaml:"ca_file" doc:"PEM file of the CAs that sign the brokers' certificates; empty means the system roots."`
	CertFile   string `yaml:"cert_file" doc:"PEM client certificate for mutual TLS; needs key_file."`
	KeyFile    string `yaml:"key_file" doc:"PEM private key of cert_file."`
	ServerName string `yaml:"server_name" doc:"Name to verify the brokers' certificates against, when it differs from the broker host."`
	// InsecureSkipVerify is dangerous: anyone on the network path can then
	// read and alter the audit trail and the credentials. It exists for a
	// throw-away test cluster with self-signed certificates, nothing else.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" doc:"DANGEROUS: accept any broker certificate, so anyone on the network can impersonate the brokers. Test clusters only."`
}

// SASL mechanisms accepted in SASLConfig.Mechanism.
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// SASLConfig authenticates to the brokers. The password comes from a file or
// an environment variable, never from the configuration file or a flag.
type SASLConfig struct {
	Mechanism    string `yaml:"mechanism" doc:"SASL mechanism: plain, scram-sha-256 or scram-sha-512; empty disables SASL."`
	Username     string `yaml:"username" doc:"SASL user name."`
	PasswordFile string `yaml:"password_file" doc:"File holding the SASL password (trailing newline ignored)."`
	PasswordEnv  string `yaml:"password_env" doc:"Environment variable holding the SASL password, used when password_file is empty."`
}

// TopicConfig names one topic and says how EnsureTopics creates it when it
// is missing. An existing topic is never altered.
type TopicConfig struct {
	Name              string        `yaml:"name" doc:"Topic name; empty disables the topic."`
	Partitions        int           `yaml:"partitions" doc:"Partitions when creating the topic; the unit of parallelism of its consumer group."`
	ReplicationFactor int           `yaml:"replication_factor" doc:"Replicas when creating the topic; -1 uses the broker's default.replication.factor."`
	Compacted         bool          `yaml:"compacted" doc:"Create the topic with cleanup.policy=compact (keeps the last record per key)."`
	Retention         time.Duration `yaml:"retention" doc:"retention.ms when creating the topic; 0 uses the broker's default. Must cover the detector's longest window for replay."`
}

// Topics are the project's topics.
type Topics struct {
	Activity    TopicConfig `yaml:"activity" doc:"Canonical CRM activity events, keyed by tenant and person."`
	DeadLetter  TopicConfig `yaml:"dead_letter" doc:"Rejected input with the reason (see internal/deadletter)."`
	Alerts      TopicConfig `yaml:"alerts" doc:"Alerts from the detector."`
	Actions     TopicConfig `yaml:"actions" doc:"Requested actions and their status records."`
	DetectState TopicConfig `yaml:"detect_state" doc:"Compacted topic for detector state snapshots."`
	// Rekeyed is internal to the detector: copies of the activity events
	// that rules grouped by something other than the person need, keyed by
	// that group, so one detector sees all of a group's events in order.
	Rekeyed TopicConfig `yaml:"rekeyed" doc:"Internal to the detector: activity events re-keyed by the group of rules not grouped by person (a record id, a login name)."`
}

// All lists the enabled topics (those with a name), in a fixed order.
func (t Topics) All() []TopicConfig {
	var out []TopicConfig
	for _, tc := range []TopicConfig{t.Activity, t.DeadLetter, t.Alerts, t.Actions, t.DetectState, t.Rekeyed} {
		if tc.Name != "" {
			out = append(out, tc)
		}
	}
	return out
}

// ProducerConfig tunes the producers. Acknowledgement is not configurable:
// every producer waits for all in-sync replicas (acks=all).
type ProducerConfig struct {
	// BatchTimeout bounds how long a message waits for its batch to fill;
	// kafka-go's default of 1 s would add a second to every lone write.
	BatchTimeout time.Duration `yaml:"batch_timeout" doc:"Longest a message waits for its partition's batch to fill before it is sent."`
	// BatchSize is also an allocation: kafka-go makes room for BatchSize
	// messages (about 150 bytes each) in every partition batch it opens,
	// and with a 1 ms timeout most batches hold a few messages. At 1000
	// the alert-latency benchmark collected garbage twice as often as at
	// 100 (docs/PERFORMANCE.md).
	BatchSize       int           `yaml:"batch_size" doc:"Messages per partition batch; a full batch is sent at once. kafka-go allocates room for this many messages (about 150 bytes each) in every batch it opens."`
	BatchBytes      int64         `yaml:"batch_bytes" doc:"Largest request to one partition in bytes; also the largest message accepted. Keep at or below the broker's message.max.bytes."`
	Compression     string        `yaml:"compression" doc:"Batch compression: none, gzip, snappy, lz4 or zstd."`
	MaxAttempts     int           `yaml:"max_attempts" doc:"Attempts to deliver a batch before the error is reported to the caller."`
	RetryBackoffMin time.Duration `yaml:"retry_backoff_min" doc:"First wait before retrying a failed batch."`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max" doc:"Longest wait between retries of a failed batch."`
}

// Start positions for a consumer group that has no committed offset.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// ConsumerConfig tunes fetching and consumer-group membership.
type ConsumerConfig struct {
	MinBytes int `yaml:"min_bytes" doc:"Bytes a fetch waits for before the broker answers (up to max_wait)."`
	MaxBytes int `yaml:"max_bytes" doc:"Largest fetch answer in bytes, per partition."`
	// kafka-go keeps part of MaxWait as a network margin: the broker is
	// asked to wait MaxWait-1s (MaxWait*3/4 below 1 s) and the read times
	// out at MaxWait. A margin of a few ms (MaxWait just over 1 s) or of
	// 25 ms (100 ms) turns a busy broker into read timeouts and reconnects.
	MaxWait       time.Duration `yaml:"max_wait" doc:"Deadline of an idle fetch; the broker holds it max_wait minus 1 s (a quarter less below 1 s), kafka-go keeps the rest as network margin. Data is returned as soon as it arrives."`
	QueueCapacity int           `yaml:"queue_capacity" doc:"Messages fetched ahead per partition; bounds memory together with max_bytes."`
	StartOffset   string        `yaml:"start_offset" doc:"Where a group with no committed offset starts: earliest (nothing skipped) or latest."`

	SessionTimeout    time.Duration `yaml:"session_timeout" doc:"Time without a heartbeat after which the group coordinator drops a member and rebalances."`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" doc:"Heartbeat period; also how soon a member learns of a rebalance. At most a third of session_timeout."`
	RebalanceTimeout  time.Duration `yaml:"rebalance_timeout" doc:"Time members have to finish their work, commit and rejoin during a rebalance."`
	JoinBackoff       time.Duration `yaml:"join_backoff" doc:"Wait before rejoining the group after a failed join."`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout" doc:"Time allowed on shutdown to flush, commit and leave the group."`
}

// DefaultConfig is the configuration for a local cluster on 127.0.0.1:9092,
// the address of the embedded broker and of docker-compose.yml.
func DefaultConfig() Config {
	return Config{
		Brokers:  []string{"127.0.0.1:9092"},
		ClientID: "trailwatch",
		Topics: Topics{
			Activity:    TopicConfig{Name: "crm.activity", Partitions: 12, ReplicationFactor: -1},
			DeadLetter:  TopicConfig{Name: "crm.activity.dlq", Partitions: 3, ReplicationFactor: -1},
			Alerts:      TopicConfig{Name: "crm.alerts", Partitions: 6, ReplicationFactor: -1},
			Actions:     TopicConfig{Name: "crm.actions", Partitions: 6, ReplicationFactor: -1},
			DetectState: TopicConfig{Name: "crm.detect.state", Partitions: 12, ReplicationFactor: -1, Compacted: true},
			Rekeyed:     TopicConfig{Name: "crm.activity.rekeyed", Partitions: 12, ReplicationFactor: -1},
		},
		Producer: ProducerConfig{
			BatchTimeout:    time.Millisecond,
			BatchSize:       100,
			BatchBytes:      1 << 20,
			Compression:     "lz4",
			MaxAttempts:     10,
			RetryBackoffMin: 100 * time.Millisecond,
			RetryBackoffMax: 2 * time.Second,
		},
		Consumer: ConsumerConfig{
			MinBytes:          1,
			MaxBytes:          4 << 20,
			MaxWait:           2 * time.Second,
			QueueCapacity:     1000,
			StartOffset:       StartEarliest,
			SessionTimeout:    10 * time.Second,
			HeartbeatInterval: time.Second,
			RebalanceTimeout:  30 * time.Second,
			JoinBackoff:       time.Second,
			ShutdownTimeout:   10 * time.Second,
		},
		DialTimeout:  10 * time.Second,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
	}
}

// Validate reports every problem in c at once, each naming its setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("kafka.%s: %s", setting, fmt.Sprintf(format, args...)))
	}

	if len(c.Brokers) == 0 {
		bad("brokers", "at least one broker is required")
	}
	for i, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			bad(fmt.Sprintf("brokers[%d]", i), "%q is not host:port", b)
			continue
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad(fmt.Sprintf("brokers[%d]", i), "%q has no valid port", b)
		}
	}

	if !c.TLS.Enabled && (c.TLS.CAFile != "" || c.TLS.CertFile != "" || c.TLS.KeyFile != "" || c.TLS.ServerName != "" || c.TLS.InsecureSkipVerify) {
		bad("tls.enabled", "TLS files or options are set but TLS is not enabled")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls", "cert_file and key_file must be set together")
	}

	switch c.SASL.Mechanism {
	case "":
		if c.SASL.Username != "" || c.SASL.PasswordFile != "" || c.SASL.PasswordEnv != "" {
			bad("sasl.mechanism", "SASL credentials are set but no mechanism is")
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASL.Username == "" {
			bad("sasl.username", "required with SASL")
		}
		if c.SASL.PasswordFile == "" && c.SASL.PasswordEnv == "" {
			bad("sasl", "password_file or password_env is required with SASL")
		}
		if c.SASL.PasswordFile != "" && c.SASL.PasswordEnv != "" {
			bad("sasl", "set one of password_file and password_env, not both")
		}
	default:
		bad("sasl.mechanism", "%q is not one of plain, scram-sha-256, scram-sha-512", c.SASL.Mechanism)
	}

	seen := map[string]string{}
	for _, t := range []struct {
		setting string
		tc      TopicConfig
	}{
		{"topics.activity", c.Topics.Activity},
		{"topics.dead_letter", c.Topics.DeadLetter},
		{"topics.alerts", c.Topics.Alerts},
		{"topics.actions", c.Topics.Actions},
		{"topics.detect_state", c.Topics.DetectState},
		{"topics.rekeyed", c.Topics.Rekeyed},
	} {
		errs = append(errs, t.tc.validate(t.setting)...)
		if t.tc.Name == "" {
			continue
		}
		// Kafka treats '.' and '_' alike in topic names (metrics names
		// collide), and refuses a topic that differs from another only so.
		norm := strings.ReplaceAll(t.tc.Name, ".", "_")
		if other, ok := seen[norm]; ok {
			bad(t.setting+".name", "%q collides with %s", t.tc.Name, other)
		}
		seen[norm] = t.setting
	}
	if c.Topics.Activity.Name == "" {
		bad("topics.activity.name", "required")
	}

	p := c.Producer
	if p.BatchTimeout <= 0 {
		bad("producer.batch_timeout", "must be positive, got %s", p.BatchTimeout)
	}
	if p.BatchSize < 1 {
		bad("producer.batch_size", "must be at least 1, got %d", p.BatchSize)
	}
	if p.BatchBytes < 1024 {
		bad("producer.batch_bytes", "must be at least 1024, got %d", p.BatchBytes)
	}
	if _, err := compressionCodec(p.Compression); err != nil {
		bad("producer.compression", "%v", err)
	}
	if p.MaxAttempts < 1 {
		bad("producer.max_attempts", "must be at least 1, got %d", p.MaxAttempts)
	}
	if p.RetryBackoffMin <= 0 || p.RetryBackoffMax < p.RetryBackoffMin {
		bad("producer.retry_backoff_min", "must be positive and at most retry_backoff_max (%s, %s)", p.RetryBackoffMin, p.RetryBackoffMax)
	}

	k := c.Consumer
	if k.MinBytes < 1 {
		bad("consumer.min_bytes", "must be at least 1, got %d", k.MinBytes)
	}
	if k.MaxBytes < k.MinBytes || k.MaxBytes < 1024 {
		bad("consumer.max_bytes", "must be at least 1024 and min_bytes, got %d", k.MaxBytes)
	}
	if k.MaxWait < 100*time.Millisecond || k.MaxWait >= time.Second && k.MaxWait < 1500*time.Millisecond {
		bad("consumer.max_wait", "must be at least 100ms and not within [1s, 1.5s), where kafka-go leaves the broker almost no time to wait; got %s", k.MaxWait)
	}
	if k.QueueCapacity < 1 {
		bad("consumer.queue_capacity", "must be at least 1, got %d", k.QueueCapacity)
	}
	if k.StartOffset != StartEarliest && k.StartOffset != StartLatest {
		bad("consumer.start_offset", "%q is not earliest or latest", k.StartOffset)
	}
	if k.SessionTimeout <= 0 {
		bad("consumer.session_timeout", "must be positive, got %s", k.SessionTimeout)
	}
	if k.HeartbeatInterval <= 0 || k.HeartbeatInterval*3 > k.SessionTimeout {
		bad("consumer.heartbeat_interval", "must be positive and at most a third of session_timeout (%s), got %s", k.SessionTimeout, k.HeartbeatInterval)
	}
	if k.RebalanceTimeout <= 0 {
		bad("consumer.rebalance_timeout", "must be positive, got %s", k.RebalanceTimeout)
	}
	if k.JoinBackoff <= 0 {
		bad("consumer.join_backoff", "must be positive, got %s", k.JoinBackoff)
	}
	if k.ShutdownTimeout <= 0 || k.ShutdownTimeout >= k.RebalanceTimeout {
		// The work in hand at a rebalance gets shutdown_timeout to finish
		// and commit; the group waits for it only rebalance_timeout.
		bad("consumer.shutdown_timeout", "must be positive and below rebalance_timeout (%s), got %s", k.RebalanceTimeout, k.ShutdownTimeout)
	}

	for _, d := range []struct {
		setting string
		v       time.Duration
	}{{"dial_timeout", c.DialTimeout}, {"read_timeout", c.ReadTimeout}, {"write_timeout", c.WriteTimeout}} {
		if d.v <= 0 {
			bad(d.setting, "must be positive, got %s", d.v)
		}
	}
	return errors.Join(errs...)
}

func (t TopicConfig) validate(setting string) []error {
	if t.Name == "" {
		return nil
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("kafka.%s.%s: %s", setting, field, fmt.Sprintf(format, args...)))
	}
	if err := validTopicName(t.Name); err != nil {
		bad("name", "%v", err)
	}
	if t.Partitions < 1 {
		bad("partitions", "must be at least 1, got %d", t.Partitions)
	}
	if t.ReplicationFactor == 0 || t.ReplicationFactor < -1 {
		bad("replication_factor", "must be -1 (broker default) or at least 1, got %d", t.ReplicationFactor)
	}
	if t.Retention < 0 {
		bad("retention", "must not be negative, got %s", t.Retention)
	}
	return errs
}

// validTopicName applies Kafka's rules: 1 to 249 characters of
// [a-zA-Z0-9._-], and not "." or "..".
func validTopicName(name string) error {
	if name == "." || name == ".." {
		return fmt.Errorf("%q is not a valid topic name", name)
	}
	if len(name) > 249 {
		return fmt.Errorf("topic name is %d characters, the limit is 249", len(name))
	}
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q has %q at byte %d; only letters, digits, '.', '_' and '-' are allowed", name, r, i)
		}
	}
	return nil
}
