package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/sink"
)

func newRunCmd(a *app) *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the whole pipeline in one process on the embedded Kafka and ClickHouse",
		Long: `Starts the embedded Kafka-protocol broker and the embedded ClickHouse server
(data under data_dir), applies the ClickHouse migrations, and runs every role
(ingest, detect, sink, respond) in this process, each talking to the engines
over the network exactly as it would to production clusters. It prints where
everything listens and shuts down gracefully on Ctrl-C, flushing and
committing what is done.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			return runAll(cmd.Context(), cfg, logger(cfg), cmd.OutOrStdout(), demo)
		},
	}
	cmd.Flags().BoolVar(&demo, "demo", false, "feed simulated CRM activity (with attack episodes) into the pipeline, and print what happens")
	return cmd
}

// runAll is trailwatch run.
func runAll(ctx context.Context, cfg *Config, log zerolog.Logger, out io.Writer, demo bool) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	k, err := embedded.StartKafka(ctx, filepath.Join(cfg.DataDir, "kafka"), cfg.Embedded.Kafka, cfg.Kafka.Topics, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := k.Close(); err != nil {
			log.Error().Err(err).Msg("closing embedded kafka")
		}
	}()
	cfg.Kafka.Brokers = k.Brokers()

	ch, err := embedded.StartClickHouse(ctx, filepath.Join(cfg.DataDir, "clickhouse"), cfg.Embedded.ClickHouse, log, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err := ch.Close(); err != nil {
			log.Error().Err(err).Msg("closing embedded clickhouse")
		}
	}()
	cfg.ClickHouse.URL = ch.URL()
	if err := migrate(ctx, cfg, log); err != nil {
		return err
	}

	fmt.Fprintf(out, "Trailwatch is running (data in %s). Ctrl-C stops it.\n", cfg.DataDir)
	fmt.Fprintf(out, "  Kafka broker       %s\n", k.Addr())
	fmt.Fprintf(out, "  ClickHouse (HTTP)  %s   try: bin/trailwatch query \"SELECT rule_id, count() FROM alerts FINAL GROUP BY rule_id\"\n", ch.URL())
	if cfg.Metrics.Listen != "" {
		fmt.Fprintf(out, "  metrics            http://%s/metrics\n", cfg.Metrics.Listen)
	}
	roles := pipelineRoles()
	if demo {
		d, err := setupDemo(cfg, out)
		if err != nil {
			return err
		}
		roles["demo"] = d.role
	}
	fmt.Fprintf(out, "  HTTP collector     http://%s/v1/events\n", cfg.Ingest.HTTP.Listen)
	err = runRoles(ctx, cfg, log, roles)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	fmt.Fprintln(out, "Trailwatch stopped; everything acknowledged is stored.")
	return err
}

// migrate applies the ClickHouse migrations, waiting briefly for the
// server.
func migrate(ctx context.Context, cfg *Config, log zerolog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	st, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = sink.Migrate(ctx, st, cfg.Storage, log)
	return err
}

// pipelineRoles are the roles trailwatch run starts: every stage of the
// pipeline, each as its own subcommand would run it.
func pipelineRoles() map[string]role {
	return map[string]role{"ingest": runIngestHTTP, "detect": runDetect, "sink": runSink, "respond": runRespond, "reports": runReports}
}
