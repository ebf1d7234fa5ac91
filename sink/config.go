package sink

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/trailwatch/trailwatch/compliance/tracking"
	"github.com/trailwatch/trailwatch/internal/deadletter"
)

// Config configures the sink role.
type Config struct {
	Group              string          `yaml:"group" doc:"Kafka consumer group of the sink role; every sink process of one deployment uses the same."`
	BatchMessages      int             `yaml:"batch_messages" doc:"Most Kafka messages in one batch; a batch is one insert per table, committed once ClickHouse acknowledged it."`
	BatchWait          time.Duration   `yaml:"batch_wait" doc:"Longest the first message of a batch waits for the batch to fill."`
	RetryMin           time.Duration   `yaml:"retry_min" doc:"First wait before retrying a batch ClickHouse refused or did not answer; consumption pauses meanwhile."`
	RetryMax           time.Duration   `yaml:"retry_max" doc:"Longest wait between retries of a batch."`
	MigrateOnStart     bool            `yaml:"migrate_on_start" doc:"Apply migrations and retention on start. Turn off when the sink's ClickHouse user is the insert-only writer; then run trailwatch migrate as an administrator, and the sink only checks that nothing is pending."`
	GeoIPDatabase      string          `yaml:"geoip_database" doc:"MaxMind-format City database (GeoIP2 or GeoLite2 City .mmdb) used to locate client.ip when the source gave no location; empty turns geo enrichment off."`
	DirectoryFile      string          `yaml:"directory_file" doc:"CSV (header id,role,department,manager) or JSON array file of directory attributes, matched on user.id, then user.person_id, then user.name; empty turns directory enrichment off."`
	Integrity          IntegrityConfig `yaml:"integrity"`
	Tracking           tracking.Config `yaml:"tracking" doc:"Tracking levels per tenant and source, objects and fields kept, sensitive fields masked (docs/COMPLIANCE.md)."`
	RollupDedupIDs     int             `yaml:"rollup_dedup_ids" doc:"Ids of the events (and alerts) last stored that the sink remembers per partition, so that a batch delivered again after a crash or a rebalance, or an event a collector sent twice, is counted once by the roll-up tables (about 40 bytes each; reloaded from ClickHouse when a partition comes to the sink). Must be at least batch_messages."`
	ShadowData         bool            `yaml:"shadow_data" doc:"Scan the changes, comments and exported report names of every event for personal data typed where it does not belong (card numbers, US SSNs, IBANs, passport numbers; e-mails and phones in free text) and store those values masked; records the sink rejects go to the dead-letter topic with the same kinds masked anywhere in their bytes. The alerts are the detector's (rule shadow.pii_in_free_text; docs/COMPLIANCE.md)."`
	DeadLetterRawBytes int             `yaml:"dead_letter_raw_bytes" doc:"Most bytes of a rejected input the dead_letters table keeps (masked; raw_size and raw_sha256 describe the whole); 0 keeps none."`
}

// IntegrityConfig configures the tamper evidence the sink writes.
type IntegrityConfig struct {
	KeyFile            string        `yaml:"key_file" doc:"PEM PKCS #8 Ed25519 private key that signs checkpoints (openssl genpkey -algorithm ed25519). Empty: <data_dir>/integrity/checkpoint.key, created on first start."`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval" doc:"How often the sink signs and stores a checkpoint of every chain that grew; rows after the last checkpoint are not yet covered by a signature."`
}

// DefaultConfig is the sink's default configuration.
func DefaultConfig() Config {
	return Config{
		Group:              "trailwatch-sink",
		BatchMessages:      20000,
		BatchWait:          500 * time.Millisecond,
		RollupDedupIDs:     100_000,
		RetryMin:           200 * time.Millisecond,
		RetryMax:           15 * time.Second,
		MigrateOnStart:     true,
		Integrity:          IntegrityConfig{CheckpointInterval: time.Minute},
		ShadowData:         true,
		DeadLetterRawBytes: 4096,
	}
}

// Validate reports every problem at once, naming the setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sink.%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	if c.Group == "" {
		bad("group", "required")
	}
	if c.BatchMessages < 1 || c.BatchMessages > 1_000_000 {
		bad("batch_messages", "must be between 1 and 1000000, got %d", c.BatchMessages)
	}
	if c.RollupDedupIDs < c.BatchMessages || c.RollupDedupIDs > 100_000_000 {
		bad("rollup_dedup_ids", "must be between batch_messages (%d) and 100000000, got %d", c.BatchMessages, c.RollupDedupIDs)
	}
	if c.BatchWait <= 0 {
		bad("batch_wait", "must be positive, got %s", c.BatchWait)
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		bad("retry_min", "must be positive and at most retry_max (%s, %s)", c.RetryMin, c.RetryMax)
	}
	for setting, path := range map[string]string{"geoip_database": c.GeoIPDatabase, "directory_file": c.DirectoryFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			bad(setting, "%v", err)
		}
	}
	if c.DeadLetterRawBytes < 0 || c.DeadLetterRawBytes > deadletter.MaxRaw {
		bad("dead_letter_raw_bytes", "must be between 0 and %d, got %d", deadletter.MaxRaw, c.DeadLetterRawBytes)
	}
	if c.Integrity.CheckpointInterval < time.Second {
		bad("integrity.checkpoint_interval", "must be at least 1s, got %s", c.Integrity.CheckpointInterval)
	}
	if err := c.Tracking.Validate("sink.tracking"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
