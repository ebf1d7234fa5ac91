package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance/report"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

func newReportCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Run compliance reports (named queries as CSV or a self-contained HTML page)"}
	var (
		tenant, format, out, webhook string
		defs, params                 []string
	)
	run := &cobra.Command{
		Use:   "run NAME --tenant T [--param k=v]... [--format csv|html] [--out DIR | --webhook URL]",
		Short: "Run a report: a built-in one or a definition from --definitions",
		Long: `Runs the report NAME (built in, or a YAML definition in a --definitions
directory; see docs/COMPLIANCE.md for the format) for one tenant and writes
it as CSV (one file per section) or one self-contained HTML page with inline
SVG charts, into --out DIR/<tenant>/<time>/, or posts it to --webhook, or
prints it to standard output. Reports read only through the named query
library, every query with readonly = 1 (a write fails), as the ClickHouse
user reports.clickhouse_user when set (a read-only reader).`,
		Example: `  trailwatch report run audit-trail-health --tenant acme
  trailwatch report run exports-by-person --tenant acme --format html --out /var/lib/trailwatch/reports
  trailwatch report run gdpr-person-access --tenant acme --param object_id=003xx000004TmiQ --format html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			if tenant == "" {
				errs = append(errs, errors.New("--tenant: required"))
			}
			if format != "csv" && format != "html" {
				errs = append(errs, fmt.Errorf("--format: %q, want csv or html", format))
			}
			if out != "" && webhook != "" {
				errs = append(errs, errors.New("give --out or --webhook, not both"))
			}
			values, err := paramValues(params)
			if err != nil {
				errs = append(errs, err)
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			d, err := report.Find(args[0], append(defs, cfg.Reports.Definitions...)...)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := chstore.Open(ctx, cfg.Reports.ReaderConfig(cfg.ClickHouse), logger(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			now := time.Now().UTC()
			r, err := report.Run(ctx, st, d, tenant, values, now)
			if err != nil {
				return err
			}
			files, err := r.Files(format)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch {
			case out != "":
				paths, err := report.WriteDir(out, tenant, now, files)
				sort.Strings(paths)
				for _, p := range paths {
					fmt.Fprintln(w, p)
				}
				return err
			case webhook != "":
				return report.Post(ctx, nil, webhook, files)
			}
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if len(names) > 1 {
					fmt.Fprintf(w, "# %s\n", n)
				}
				w.Write(files[n])
			}
			return nil
		},
	}
	f := run.Flags()
	f.StringVar(&tenant, "tenant", "", "the tenant")
	f.StringVar(&format, "format", "csv", "output: csv or html")
	f.StringVar(&out, "out", "", "write the files into this directory (under <tenant>/<time>/)")
	f.StringVar(&webhook, "webhook", "", "post each file to this URL")
	f.StringArrayVar(&params, "param", nil, "report parameter, as name=value (repeat)")
	f.StringArrayVar(&defs, "definitions", nil, "directory of report definitions (*.yaml); repeat for several (default: reports.definitions)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the built-in reports and those in --definitions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := report.Builtin()
			if err != nil {
				return err
			}
			for _, d := range all {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n    %s\n", d.Name, d.Description)
			}
			return nil
		},
	}
	cmd.AddCommand(run, list)
	return cmd
}

// runReports is the role that produces the scheduled reports of
// cfg.Reports; with no schedules it waits for ctx and does nothing.
func runReports(ctx context.Context, cfg *Config, log zerolog.Logger, _ prometheus.Registerer, _ *telemetry.Server) error {
	log = log.With().Str("component", "reports").Logger()
	jobs, err := cfg.Reports.Jobs("reports")
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		<-ctx.Done()
		return nil
	}
	st, err := chstore.Open(ctx, cfg.Reports.ReaderConfig(cfg.ClickHouse), log)
	if err != nil {
		return err
	}
	defer st.Close()
	s := &report.Scheduler{Jobs: jobs, Log: log, Run: func(ctx context.Context, j report.Job, at time.Time) error {
		r, err := report.Run(ctx, st, j.Def, j.Tenant, j.Params, at)
		if err != nil {
			return err
		}
		files, err := r.Files(j.Format)
		if err != nil {
			return err
		}
		if cfg.Reports.Webhook != "" {
			return report.Post(ctx, nil, cfg.Reports.Webhook, files)
		}
		_, err = report.WriteDir(cfg.Reports.OutputDir, j.Tenant, at, files)
		return err
	}}
	log.Info().Int("schedules", len(jobs)).Msg("report schedules loaded")
	return s.Loop(ctx)
}
