package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/ingest/filein"
	"github.com/trailwatch/trailwatch/ingest/normalize"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

func newIngestCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Collect CRM activity into Kafka: from files, over HTTP, or by polling vendor APIs",
	}
	cmd.AddCommand(newIngestFileCmd(a), newIngestHTTPCmd(a), newIngestPollCmd(a))
	return cmd
}

func newIngestFileCmd(a *app) *cobra.Command {
	var src ingest.Source
	var follow bool
	cmd := &cobra.Command{
		Use:   "file [--format NAME] [--tenant T] [--follow] [--backfill] PATH|-",
		Short: "Publish the records of a file, a directory or standard input to Kafka",
		Long: `ingest file reads records from PATH (a file, every file of a directory in
name order, or - for standard input), maps and validates each against the
canonical event contract, and publishes the events to the activity topic
(keyed by tenant and person). Records that are refused go to the dead-letter
topic with the reason, the raw bytes, the file and the line, and are listed on
standard error as "line N: reason".

Input is canonical NDJSON by default, or any vendor format (--format; CSV with
its header row for the Event Log File formats salesforce-elf-*). Vendor
records name no tenant: give it with --tenant. For canonical events --tenant
is optional and, when given, every event must belong to it.

The live path refuses events older than ingest.max_age (7 days); --backfill
accepts any age, for replays and backfills.

--follow keeps reading what is appended to the files, and files that appear
in the directory, until interrupted, and remembers each file's position in a
checkpoint under <data_dir>/ingest/checkpoints (saved only once Kafka has
acknowledged the records before it): run again, it resumes there, with no gap
and no duplicate after a clean stop. Without --follow nothing is remembered:
sending a file again publishes its events again (they keep their ids, and are
deduplicated downstream).

Exit status: 0 when every record was published, 1 when any was refused or
the input could not be read or published.

Formats: canonical, ` + strings.Join(normalize.Formats(), ", "),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			if src.Format == ingest.FormatCanonical {
				src.Format = ""
			}
			if err := src.Validate("ingest file"); err != nil {
				return err
			}
			log := logger(cfg)
			run := fileRun{path: args[0], source: src, follow: follow, stdin: cmd.InOrStdin(), rejected: cmd.ErrOrStderr()}
			var sum filein.Summary
			if follow {
				// A long-running collector: serve its metrics like a role.
				err = runRoles(cmd.Context(), cfg, log, map[string]role{"ingest-file": func(ctx context.Context, cfg *Config, log zerolog.Logger, reg prometheus.Registerer, _ *telemetry.Server) error {
					var err error
					sum, err = runIngestFile(ctx, cfg, log, reg, run)
					return err
				}})
			} else {
				sum, err = runIngestFile(cmd.Context(), cfg, log, prometheus.NewRegistry(), run)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d published, %d rejected (in the dead-letter topic %s)\n", sum.Accepted, sum.Rejected, cfg.Kafka.Topics.DeadLetter.Name)
			if err != nil {
				return err
			}
			if sum.Rejected > 0 {
				return errRejected
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&src.Format, "format", "", "input format: canonical (default) or a vendor format (see the list above)")
	f.StringVar(&src.Tenant, "tenant", "", "tenant of the records (required for vendor formats)")
	f.StringVar(&src.Mapping, "mapping", "", "YAML mapping file, for --format generic")
	f.StringVar(&src.Name, "source", "file", "source name: the source label on the events, metrics and dead letters")
	f.BoolVar(&follow, "follow", false, "keep reading appended data and new files, resuming from a checkpoint")
	f.BoolVar(&src.Backfill, "backfill", false, "accept events of any age (replay, backfill)")
	return cmd
}

func newIngestHTTPCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "http",
		Short: "Serve the authenticated HTTP collector (POST /v1/events)",
		Long: `ingest http serves POST /v1/events on ingest.http.listen for the sources of
ingest.http.sources (each with its tenant, format, and a bearer token and/or
an HMAC secret read from a file or the environment), answering a request only
once Kafka has acknowledged its events. It answers /healthz and /readyz
there too (status only; /metrics and the readiness details are on
metrics.listen). With ingest.run_pollers it also runs the pollers of
ingest.pollers. The API, the signing recipe and the limits are in
docs/INGEST.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			return runRoles(cmd.Context(), cfg, logger(cfg), map[string]role{"ingest": runIngestHTTP})
		},
	}
}

func newIngestPollCmd(a *app) *cobra.Command {
	var sources []string
	cmd := &cobra.Command{
		Use:   "poll [--source NAME]...",
		Short: "Run the pollers of vendor audit APIs (Salesforce Event Log Files, HubSpot audit logs)",
		Long: `ingest poll runs the pollers of ingest.pollers (all of them, or those named
with --source) until interrupted: each reads its vendor API from its cursor,
publishes what it reads, and saves the cursor under
<data_dir>/ingest/checkpoints once Kafka has acknowledged it. A poller's cursor
is locked: run each poller in one process only (here, or in ingest http with
ingest.run_pollers).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			return runRoles(cmd.Context(), cfg, logger(cfg), map[string]role{"ingest-poll": runIngestPollers(sources)})
		},
	}
	cmd.Flags().StringSliceVar(&sources, "source", nil, "poller to run (repeatable; default all)")
	return cmd
}
