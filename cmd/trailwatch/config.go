package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/chserver"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/config"
)

// Config is the whole configuration of the trailwatch binary. Every field
// is documented in docs/CONFIG.md, generated from these tags
// (`trailwatch config docs`).
type Config struct {
	DataDir    string         `yaml:"data_dir" doc:"Where the embedded engines keep their data (trailwatch run)."`
	Log        LogConfig      `yaml:"log"`
	ClickHouse chstore.Config `yaml:"clickhouse"`
	Embedded   EmbeddedConfig `yaml:"embedded"`
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error."`
	Format string `yaml:"format" doc:"json, console, or auto (console on a terminal, else json)."`
}

// EmbeddedConfig configures the engines trailwatch run starts in-process.
type EmbeddedConfig struct {
	ClickHouse chserver.Config `yaml:"clickhouse"`
}

func defaultConfig() *Config {
	return &Config{
		DataDir:    "data",
		Log:        LogConfig{Level: "info", Format: "auto"},
		ClickHouse: chstore.DefaultConfig(),
		Embedded:   EmbeddedConfig{ClickHouse: chserver.DefaultConfig()},
	}
}

// Validate checks what every command needs; commands validate the
// sections they use on top.
func (c *Config) Validate() error {
	var errs []error
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q, want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "json", "console", "auto":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q, want json, console or auto", c.Log.Format))
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
