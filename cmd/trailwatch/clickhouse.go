package main

import (
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/embedded"
)

func newClickHouseCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clickhouse",
		Short: "The embedded ClickHouse engine",
	}
	cmd.AddCommand(newClickHouseServeCmd(a))
	return cmd
}

func newClickHouseServeCmd(a *app) *cobra.Command {
	var path, listen, cert, key string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the embedded ClickHouse engine over the ClickHouse HTTP interface",
		Long: `Opens the embedded ClickHouse engine (libchdb) on a data directory and serves
it over the ClickHouse HTTP interface, so that trailwatch, clickhouse-go, Grafana's
ClickHouse data source and curl can all reach it. Only one process can open a
data directory; others connect to this one over HTTP. Users, TLS and limits
come from the embedded.clickhouse section of the configuration (docs/CONFIG.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			ch := cfg.Embedded.ClickHouse
			if listen != "" {
				ch.Listen = listen
			}
			if cert != "" || key != "" {
				ch.TLSCertFile, ch.TLSKeyFile = cert, key
			}
			if path == "" {
				path = filepath.Join(cfg.DataDir, "clickhouse")
			}
			ctx := cmd.Context()
			log := logger(cfg)
			srv, err := embedded.StartClickHouse(ctx, path, ch, log, prometheus.NewRegistry())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ClickHouse HTTP interface: %s (data in %s)\n", srv.URL(), path)
			select {
			case <-ctx.Done():
			case err := <-srv.Done():
				if err != nil {
					log.Error().Err(err).Msg("clickhouse server stopped")
				}
			}
			return srv.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "path", "", "data directory of the engine (default <data_dir>/clickhouse)")
	f.StringVar(&listen, "listen", "", "address to serve the HTTP interface on (default embedded.clickhouse.listen, 127.0.0.1:8123)")
	f.StringVar(&cert, "tls-cert", "", "PEM certificate file (serve HTTPS)")
	f.StringVar(&key, "tls-key", "", "PEM key file for --tls-cert")
	return cmd
}
