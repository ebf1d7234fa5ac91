package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance"
	"github.com/trailwatch/trailwatch/internal/chstore"
)

func newAuditCmd(a *app) *cobra.Command {
	var (
		tenant, asOf, format string
		opt                  = compliance.DefaultAuditOptions(time.Time{})
	)
	cmd := &cobra.Command{
		Use:   "audit --tenant T",
		Short: "Audit a tenant's CRM accounts: ghost, dormant, over-privileged and shared accounts",
		Long: `Reads the stored audit trail and the tenant's directory snapshots (trailwatch
identity import) through the named posture-* queries and lists findings with
severity, evidence and the recommended fix: ghost accounts (active in the CRM,
gone from the directory), dormant accounts (no login for --dormant-days),
over-privileged accounts (export or administration rights unused for
--privilege-days), and shared or generic accounts (logins from several
countries or devices within an hour, or role-like login names), accounts
whose MFA the source reports disabled, and the biggest exporters.
See docs/COMPLIANCE.md.`,
		Example: `  trailwatch audit --tenant acme
  trailwatch audit --tenant acme --as-of 2026-11-10T00:00:00Z --dormant-days 60 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var errs []error
			if tenant == "" {
				errs = append(errs, errors.New("--tenant: required"))
			}
			if format != "table" && format != "json" && format != "html" {
				errs = append(errs, fmt.Errorf("--format: %q, want table, json or html", format))
			}
			for flag, v := range map[string]int{"--ghost-days": opt.GhostDays, "--dormant-days": opt.DormantDays, "--privilege-days": opt.PrivilegeDays, "--shared-days": opt.SharedDays, "--export-days": opt.ExportDays} {
				if v < 1 || v > 3650 {
					errs = append(errs, fmt.Errorf("%s: must be between 1 and 3650, got %d", flag, v))
				}
			}
			if opt.TopExporters < 0 || opt.TopExporters > 1000 {
				errs = append(errs, fmt.Errorf("--top-exporters: must be between 0 and 1000, got %d", opt.TopExporters))
			}
			opt.AsOf = time.Now().UTC()
			if asOf != "" {
				t, err := time.Parse(time.RFC3339Nano, asOf)
				if err != nil {
					errs = append(errs, fmt.Errorf("--as-of: %q is not an RFC 3339 time (2026-11-03T09:00:00Z)", asOf))
				}
				opt.AsOf = t.UTC()
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := chstore.Open(ctx, cfg.Reports.ReaderConfig(cfg.ClickHouse), logger(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			fs, err := compliance.Audit(ctx, st, tenant, opt)
			if err != nil {
				return err
			}
			return compliance.WriteFindings(cmd.OutOrStdout(), tenant, opt.AsOf, fs, format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "the tenant")
	f.StringVar(&asOf, "as-of", "", "RFC 3339 instant the audit is made at (default now)")
	f.IntVar(&opt.GhostDays, "ghost-days", opt.GhostDays, "activity window for ghost accounts, in days")
	f.IntVar(&opt.DormantDays, "dormant-days", opt.DormantDays, "no successful login for this many days is dormant")
	f.IntVar(&opt.PrivilegeDays, "privilege-days", opt.PrivilegeDays, "export or admin rights unused this many days are over-privilege")
	f.IntVar(&opt.SharedDays, "shared-days", opt.SharedDays, "login window for shared accounts, in days")
	f.IntVar(&opt.ExportDays, "export-days", opt.ExportDays, "window of the top exporters, in days")
	f.IntVar(&opt.TopExporters, "top-exporters", opt.TopExporters, "how many of the biggest exporters to list (0: none)")
	f.StringVar(&format, "format", "table", "output: table, json or html (a self-contained page)")
	return cmd
}
