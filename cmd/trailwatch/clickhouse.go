package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/trailwatch/trailwatch/internal/chserver"
	"github.com/trailwatch/trailwatch/internal/embedded"
)

func newClickHouseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clickhouse",
		Short: "The embedded ClickHouse engine",
	}
	cmd.AddCommand(newClickHouseServeCmd())
	return cmd
}

// loadServeConfig reads a YAML file of chserver.Config settings (listen,
// users, queue_size, …) over the defaults; unknown keys are errors.
func loadServeConfig(file string) (chserver.Config, error) {
	cfg := chserver.DefaultConfig()
	f, err := os.Open(file)
	if err != nil {
		return cfg, fmt.Errorf("reading clickhouse config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("reading clickhouse config %s: %w", file, err)
	}
	return cfg, nil
}

func newClickHouseServeCmd() *cobra.Command {
	cfg := chserver.DefaultConfig()
	path := filepath.Join("data", "clickhouse")
	var configFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the embedded ClickHouse engine over the ClickHouse HTTP interface",
		Long: `Opens the embedded ClickHouse engine (libchdb) on a data directory and serves
it over the ClickHouse HTTP interface, so that trailwatch, clickhouse-go, Grafana's
ClickHouse data source and curl can all reach it. Only one process can open a
data directory; others connect to this one over HTTP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if configFile != "" {
				fileCfg, err := loadServeConfig(configFile)
				if err != nil {
					return err
				}
				// Flags given on the command line win over the file.
				fl := cmd.Flags()
				if fl.Changed("listen") {
					fileCfg.Listen = cfg.Listen
				}
				if fl.Changed("tls-cert") {
					fileCfg.TLSCertFile = cfg.TLSCertFile
				}
				if fl.Changed("tls-key") {
					fileCfg.TLSKeyFile = cfg.TLSKeyFile
				}
				if fl.Changed("queue-size") {
					fileCfg.QueueSize = cfg.QueueSize
				}
				if fl.Changed("read-max-execution-time") {
					fileCfg.ReadTimeout = cfg.ReadTimeout
				}
				cfg = fileCfg
			}
			log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
			ch, err := embedded.StartClickHouse(ctx, path, cfg, log, prometheus.NewRegistry())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ClickHouse HTTP interface: %s (data in %s)\n", ch.URL(), path)
			select {
			case <-ctx.Done():
			case err := <-ch.Done():
				if err != nil {
					log.Error().Err(err).Msg("clickhouse server stopped")
				}
			}
			return ch.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "YAML file with the server's settings and users (see docs/CLICKHOUSE.md)")
	f.StringVar(&path, "path", path, "data directory of the engine")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to serve the HTTP interface on")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate file (serve HTTPS)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM key file for --tls-cert")
	f.IntVar(&cfg.QueueSize, "queue-size", cfg.QueueSize, "requests that may wait for the engine before new ones get 503")
	f.DurationVar(&cfg.ReadTimeout, "read-max-execution-time", cfg.ReadTimeout, "max_execution_time for read-only statements that set none")
	return cmd
}
