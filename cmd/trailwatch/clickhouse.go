package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

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

func newClickHouseServeCmd() *cobra.Command {
	cfg := chserver.DefaultConfig()
	path := filepath.Join("data", "clickhouse")
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
			log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
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
	f.StringVar(&path, "path", path, "data directory of the engine")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to serve the HTTP interface on")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate file (serve HTTPS)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM key file for --tls-cert")
	f.IntVar(&cfg.QueueSize, "queue-size", cfg.QueueSize, "requests that may wait for the engine before new ones get 503")
	f.DurationVar(&cfg.ReadTimeout, "read-max-execution-time", cfg.ReadTimeout, "max_execution_time for read-only statements that set none")
	return cmd
}
