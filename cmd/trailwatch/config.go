package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance/report"
	"github.com/trailwatch/trailwatch/detect/runner"
	"github.com/trailwatch/trailwatch/identity"
	"github.com/trailwatch/trailwatch/internal/chserver"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/sink"
)

// logger builds the one root logger (the configuration was validated).
func logger(cfg *Config) zerolog.Logger {
	log, err := telemetry.NewLogger(cfg.Log, os.Stderr)
	if err != nil {
		return zerolog.New(os.Stderr)
	}
	return log
}

// Config is the whole configuration of the trailwatch binary. Every field
// is documented in docs/CONFIG.md, generated from these tags
// (`trailwatch config docs`).
type Config struct {
	DataDir    string              `yaml:"data_dir" doc:"Where the embedded engines keep their data (trailwatch run)."`
	Log        telemetry.LogConfig `yaml:"log"`
	Metrics    MetricsConfig       `yaml:"metrics"`
	Kafka      kafka.Config        `yaml:"kafka"`
	ClickHouse chstore.Config      `yaml:"clickhouse"`
	Embedded   EmbeddedConfig      `yaml:"embedded"`
	Detect     runner.Config       `yaml:"detect"`
	Ingest     IngestConfig        `yaml:"ingest"`
	Sink       sink.Config         `yaml:"sink"`
	Storage    sink.StorageConfig  `yaml:"storage"`
	Respond    RespondConfig       `yaml:"respond"`
	Identity   identity.Config     `yaml:"identity"`
	Reports    report.Config       `yaml:"reports"`
}

// MetricsConfig configures the HTTP endpoint every role serves.
type MetricsConfig struct {
	Listen string `yaml:"listen" doc:"Address of /metrics (Prometheus), /healthz and /readyz for the role this process runs; empty turns the endpoint off."`
}

// EmbeddedConfig configures the engines trailwatch run starts in-process.
type EmbeddedConfig struct {
	Kafka      embedded.KafkaConfig `yaml:"kafka"`
	ClickHouse chserver.Config      `yaml:"clickhouse"`
}

func defaultConfig() *Config {
	return &Config{
		DataDir:    "data",
		Log:        telemetry.DefaultLogConfig(),
		Metrics:    MetricsConfig{Listen: "127.0.0.1:9464"},
		Kafka:      kafka.DefaultConfig(),
		ClickHouse: chstore.DefaultConfig(),
		Embedded:   EmbeddedConfig{Kafka: embedded.DefaultKafkaConfig(), ClickHouse: chserver.DefaultConfig()},
		Detect:     runner.DefaultConfig(),
		Ingest:     defaultIngestConfig(),
		Sink:       sink.DefaultConfig(),
		Storage:    sink.DefaultStorageConfig(),
		Respond:    defaultRespondConfig(),
		Identity:   identity.DefaultConfig(),
	}
}

// Validate checks what every command needs; commands validate the
// sections they use on top.
func (c *Config) Validate() error {
	var errs []error
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required"))
	}
	return errors.Join(errs...)
}

// globalFlags are the flags every command takes.
type globalFlags struct {
	configPath string
	logLevel   string
}

func (g *globalFlags) register(root *cobra.Command) {
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "YAML configuration file (default $TRAILWATCH_CONFIG; see docs/CONFIG.md)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "override log.level")
}

// load builds the configuration: defaults, the YAML file, TRAILWATCH_*
// variables, then flags.
func (g *globalFlags) load() (*Config, error) {
	cfg := defaultConfig()
	path := g.configPath
	if path == "" {
		path = os.Getenv("TRAILWATCH_CONFIG")
	}
	if path != "" {
		if err := config.LoadFile(path, cfg); err != nil {
			return nil, err
		}
	}
	if err := config.ApplyEnv(cfg, os.Environ()); err != nil {
		return nil, err
	}
	if g.logLevel != "" {
		cfg.Log.Level = g.logLevel
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.DataDir = filepath.Clean(cfg.DataDir)
	return cfg, nil
}
