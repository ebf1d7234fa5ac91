package runner

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the detector runtime. Rules and the engine's own
// configuration (lateness, limits, calendars, tenants) come from files, so
// that they reload without a restart.
type Config struct {
	Rules        string `yaml:"rules" doc:"Directory of detection rules (docs/RULES.md); watched and reloaded on change and on SIGHUP."`
	EngineConfig string `yaml:"engine_config" doc:"Detector configuration file (lateness, limits, calendars, tenant overrides; the file trailwatch replay --config takes); empty means the defaults. Reloaded with the rules."`
	Group        string `yaml:"group" doc:"Consumer group of the detectors; every detector of one deployment uses the same."`
	// LocalGroupBy names the group_by items whose events all share a
	// crm.activity partition, because the topic is keyed by tenant and
	// person: a rule grouped by any of them runs on crm.activity directly.
	LocalGroupBy []string `yaml:"local_group_by" doc:"group_by items that follow the crm.activity key (tenant and person): a rule grouping by one of them runs on crm.activity; any other rule is fed through the re-keyed topic."`

	ReloadInterval   time.Duration `yaml:"reload_interval" doc:"How often the rules directory and engine_config are checked for changes; 0 reloads on SIGHUP only."`
	CommitInterval   time.Duration `yaml:"commit_interval" doc:"How often each partition commits the offset up to which everything derived is acknowledged."`
	SnapshotInterval time.Duration `yaml:"snapshot_interval" doc:"How often each partition's state is written to the detect_state topic; 0 disables snapshots (recovery then replays the longest rule span)."`
	SnapshotChunk    int           `yaml:"snapshot_chunk_bytes" doc:"Largest snapshot chunk (one Kafka message); keep below kafka.producer.batch_bytes."`
	StatsInterval    time.Duration `yaml:"stats_interval" doc:"How often per-rule state size and key counts are measured for the metrics (the size from up to 1024 groups per rule, extrapolated)."`
	MaxPending       int           `yaml:"max_pending" doc:"Output messages per partition waiting for Kafka's acknowledgement before processing pauses."`
	MaxFuture        time.Duration `yaml:"max_future" doc:"How far ahead of this machine's clock an event's timestamp may be; later ones go to the dead-letter topic (ingest checks this too)."`
	MemoryLimit      int64         `yaml:"memory_limit_bytes" doc:"Soft memory limit of a detector process for the Go collector, in bytes; 0 means 90% of the container's (cgroup) memory limit, or none outside one. The GOMEMLIMIT environment variable, when set, wins."`
	CacheTTL         time.Duration `yaml:"cache_ttl" doc:"How long a partition's state is kept in memory after a rebalance revoked it, to be reused without a restore if the partition comes back."`
}

// DefaultConfig is the configuration the detector runs with unless told
// otherwise.
func DefaultConfig() Config {
	return Config{
		Rules:            "rules",
		Group:            "trailwatch-detect",
		LocalGroupBy:     []string{"person", "user.person_id", "user.id"},
		ReloadInterval:   5 * time.Second,
		CommitInterval:   time.Second,
		SnapshotInterval: time.Minute,
		SnapshotChunk:    512 << 10,
		StatsInterval:    10 * time.Second,
		MaxPending:       20_000,
		MaxFuture:        time.Hour,
		CacheTTL:         time.Minute,
	}
}

// Validate reports every problem at once, naming the setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("detect.%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	if c.Rules == "" {
		bad("rules", "a rules directory is required")
	}
	if c.Group == "" {
		bad("group", "a consumer group id is required")
	}
	if c.ReloadInterval < 0 {
		bad("reload_interval", "must not be negative, got %s", c.ReloadInterval)
	}
	if c.CommitInterval <= 0 {
		bad("commit_interval", "must be positive, got %s", c.CommitInterval)
	}
	if c.SnapshotInterval < 0 {
		bad("snapshot_interval", "must not be negative, got %s", c.SnapshotInterval)
	}
	if c.SnapshotChunk < 1024 {
		bad("snapshot_chunk_bytes", "must be at least 1024, got %d", c.SnapshotChunk)
	}
	if c.StatsInterval <= 0 {
		bad("stats_interval", "must be positive, got %s", c.StatsInterval)
	}
	if c.MaxPending < 1 {
		bad("max_pending", "must be at least 1, got %d", c.MaxPending)
	}
	if c.MaxFuture <= 0 {
		bad("max_future", "must be positive, got %s", c.MaxFuture)
	}
	if c.MemoryLimit < 0 {
		bad("memory_limit_bytes", "must not be negative, got %d", c.MemoryLimit)
	}
	if c.CacheTTL < 0 {
		bad("cache_ttl", "must not be negative, got %s", c.CacheTTL)
	}
	return errors.Join(errs...)
}
