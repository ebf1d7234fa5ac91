package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trailwatch/trailwatch/internal/flock"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// KafkaConfig configures the embedded Kafka-protocol broker.
type KafkaConfig struct {
	Listen     string `yaml:"listen" doc:"host:port the embedded broker listens on and advertises; a loopback address, port 0 picks a free port."`
	SyncWrites bool   `yaml:"sync_writes" doc:"fsync every produced batch, so acknowledged events survive a power loss too (not only a crash), at a fraction of produce throughput: every batch waits for its own fsync, so raise kafka.producer.batch_size with it (docs/PERFORMANCE.md)."`
}

// DefaultKafkaConfig listens on 127.0.0.1:9092, where kafka.DefaultConfig
// looks for brokers.
func DefaultKafkaConfig() KafkaConfig {
	return KafkaConfig{Listen: "127.0.0.1:9092"}
}

// Validate reports every problem in c at once.
func (c KafkaConfig) Validate() error {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("embedded.kafka.listen: %q is not host:port", c.Listen)
	}
	var errs []error
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("embedded.kafka.listen: %q has no valid port", c.Listen))
	}
	// The broker advertises the address it listens on; clients would be
	// told to connect to 0.0.0.0.
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		errs = append(errs, fmt.Errorf("embedded.kafka.listen: %q: name one address, not all of them (the broker advertises it to clients)", c.Listen))
	}
	return errors.Join(errs...)
}

// Kafka is the embedded broker: one in-process Kafka-protocol broker
// (github.com/twmb/franz-go/pkg/kfake) that clients reach over TCP, exactly
// as a real cluster.
type Kafka struct {
	cluster *kfake.Cluster
	addr    string
	unlock  func()
}

// StartKafka starts the broker on cfg.Listen and makes sure topics exist
// (with their partitions and cleanup policy; replication is always 1 on one
// broker). With dir set, the broker keeps its logs and the consumer groups'
// committed offsets there and reloads them on the next start: acknowledged
// messages survive a crash of the process (and, with SyncWrites, of the
// machine). The directory is locked while the broker runs. An empty dir
// keeps everything in memory, for tests.
func StartKafka(ctx context.Context, dir string, cfg KafkaConfig, topics kafka.Topics, log zerolog.Logger) (*Kafka, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log = log.With().Str("component", "embedded-kafka").Logger()
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID("trailwatch-embedded"),
		// kfake's listener address is always 127.0.0.1:port; this binds
		// the configured address instead.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, cfg.Listen) }),
		// Let tests run consumer groups with sub-second sessions; the
		// clients' own session_timeout still applies.
		kfake.GroupMinSessionTimeout(100 * time.Millisecond),
		kfake.WithLogger(kfakeLogger{log}),
	}
	k := &Kafka{unlock: func() {}}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("embedded kafka: creating data directory: %w", err)
		}
		unlock, err := flock.Lock(filepath.Join(dir, ".trailwatch.lock"))
		if err != nil {
			return nil, fmt.Errorf("embedded kafka: data directory %s: %w", dir, err)
		}
		k.unlock = unlock
		opts = append(opts, kfake.DataDir(dir))
		if cfg.SyncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		k.unlock()
		return nil, fmt.Errorf("embedded kafka: starting broker on %s: %w", cfg.Listen, err)
	}
	k.cluster = c
	k.addr = c.ListenAddrs()[0]

	// Topics are created over the wire, as on a real cluster: seeding them
	// in kfake would apply only to an empty data directory, and without a
	// cleanup policy.
	kc := kafka.DefaultConfig()
	kc.Brokers = []string{k.addr}
	kc.Topics = topics
	for _, t := range []*kafka.TopicConfig{&kc.Topics.Activity, &kc.Topics.DeadLetter, &kc.Topics.Alerts, &kc.Topics.Actions, &kc.Topics.DetectState, &kc.Topics.Rekeyed} {
		t.ReplicationFactor = -1
	}
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ectx, kc); err != nil {
		_ = k.Close()
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	log.Info().Str("addr", k.addr).Str("data_dir", dir).Bool("sync_writes", cfg.SyncWrites).Msg("embedded kafka broker started")
	return k, nil
}

// Addr is the broker's host:port.
func (k *Kafka) Addr() string { return k.addr }

// Brokers is the bootstrap list for kafka.Config.Brokers.
func (k *Kafka) Brokers() []string { return []string{k.addr} }

// Cluster is the kfake cluster, for tests that inject faults
// (ControlKey, Fault). Production code never needs it.
func (k *Kafka) Cluster() *kfake.Cluster { return k.cluster }

// Close stops the broker, writing its state to the data directory, and
// releases the directory. Clients still connected see their connections
// close.
func (k *Kafka) Close() error {
	if k.cluster != nil {
		k.cluster.Close()
	}
	k.unlock()
	return nil
}

// kfakeLogger sends kfake's log to zerolog, one level quieter: kfake logs
// every request at info.
type kfakeLogger struct{ log zerolog.Logger }

func (l kfakeLogger) Logf(lvl kfake.LogLevel, msg string, args ...any) {
	var e *zerolog.Event
	switch lvl {
	case kfake.LogLevelError:
		e = l.log.Error()
	case kfake.LogLevelWarn:
		e = l.log.Warn()
	case kfake.LogLevelInfo:
		e = l.log.Debug()
	default:
		e = l.log.Trace()
	}
	if e.Enabled() {
		e.Str("detail", fmt.Sprintf(msg, args...)).Msg("kfake")
	}
}
