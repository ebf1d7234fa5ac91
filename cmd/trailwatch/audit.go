package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

func newAuditCmd(a *app) *cobra.Command {
	var (
		tenant, asOf, format string
		permissions, actor   string
		actions              []string
		opt                  = compliance.DefaultAuditOptions(time.Time{})
	)
	cmd := &cobra.Command{
		Use:   "audit --tenant T",
		Short: "Audit a tenant's CRM accounts and connected apps: ghost, dormant, over-privileged, shared, no MFA, unused or broad apps",
		Long: `Reads the stored audit trail and the tenant's directory snapshots (trailwatch
identity import) through the named posture-* queries and lists findings with
severity, evidence and the recommended fix: ghost accounts (active in the CRM,
gone from the directory), dormant accounts (no login for --dormant-days),
over-privileged accounts (export or administration rights unused for
--privilege-days), and shared or generic accounts (logins from several
countries or devices within an hour, or role-like login names), accounts
whose MFA the source reports disabled, and the biggest exporters.

With --permissions FILE (a permissions snapshot: NDJSON, one account or
connected app per line, format in docs/COMPLIANCE.md) it also finds active
accounts without MFA, privileged rights unused for --privilege-days per the
stored activity, connected apps unused for --app-unused-days, and apps holding
broad OAuth scopes.

--actions KIND,... publishes, for the findings of those kinds, a
disable_account (ghost, dormant, shared accounts) or revoke_app (unused or
broad apps) request on the actions topic for the responder, ALWAYS in mode
dry_run: the responder records a decision and calls no vendor (it has no
adapter for these two types yet, so it records them as skipped). Action
ids are derived from tenant, finding kind and account, so a re-run publishes
the same ids and the responder treats them as re-deliveries.

Every query runs read-only (readonly = 1), as reports.clickhouse_user when set.
See docs/COMPLIANCE.md.`,
		Example: `  trailwatch audit --tenant acme
  trailwatch audit --tenant acme --as-of 2026-11-10T00:00:00Z --dormant-days 60 --format json
  trailwatch audit --tenant acme --permissions sf-permissions.ndjson
  trailwatch audit --tenant acme --permissions sf-permissions.ndjson --actions ghost_account,app_unused --actor jane`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var errs []error
			if tenant == "" {
				errs = append(errs, errors.New("--tenant: required"))
			}
			if format != "table" && format != "json" && format != "html" {
				errs = append(errs, fmt.Errorf("--format: %q, want table, json or html", format))
			}
			for flag, v := range map[string]int{"--app-unused-days": opt.AppUnusedDays, "--ghost-days": opt.GhostDays, "--dormant-days": opt.DormantDays, "--privilege-days": opt.PrivilegeDays, "--shared-days": opt.SharedDays, "--export-days": opt.ExportDays} {
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
			if len(actions) > 0 {
				if _, err := compliance.PostureActions(tenant, nil, actions, actor, time.Time{}); err != nil {
					errs = append(errs, fmt.Errorf("--actions: %w", err))
				}
			}
			if permissions != "" {
				p, err := compliance.ReadPermissionsFile(permissions)
				if err != nil {
					errs = append(errs, fmt.Errorf("--permissions: %w", err))
				}
				opt.Permissions = p
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
			if err := compliance.WriteFindings(cmd.OutOrStdout(), tenant, opt.AsOf, fs, format); err != nil {
				return err
			}
			if len(actions) == 0 {
				return nil
			}
			reqs, err := compliance.PostureActions(tenant, fs, actions, actor, time.Now())
			if err != nil {
				return err
			}
			if len(reqs) > 0 {
				if err := publishPostureActions(ctx, cfg, reqs); err != nil {
					return err
				}
			}
			for _, r := range reqs {
				fmt.Fprintf(cmd.ErrOrStderr(), "published %s %s %s (dry_run) %s\n", r.ID, r.Type, r.Target, r.RuleID)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d dry-run actions published on %s\n", len(reqs), cfg.Kafka.Topics.Actions.Name)
			return nil
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
	f.IntVar(&opt.AppUnusedDays, "app-unused-days", opt.AppUnusedDays, "a connected app unused this many days is a finding (needs --permissions)")
	f.StringVar(&permissions, "permissions", "", "permissions snapshot file (NDJSON of accounts and connected apps; docs/COMPLIANCE.md)")
	f.StringSliceVar(&actions, "actions", nil, "publish dry-run actions (never enforced) for findings of these kinds: "+strings.Join(compliance.ActionableKinds(), ", "))
	f.StringVar(&actor, "actor", "", "with --actions: who asks for them (recorded on every action)")
	f.StringVar(&format, "format", "table", "output: table, json or html (a self-contained page)")
	return cmd
}

// publishPostureActions records the audit's dry-run requests on the
// actions topic through the responder's recorder.
func publishPostureActions(ctx context.Context, cfg *Config, reqs []alert.Action) error {
	rec, closeRec, err := actionsRecorder(cfg)
	if err != nil {
		return err
	}
	defer closeRec()
	return compliance.PublishActions(ctx, rec, reqs)
}
