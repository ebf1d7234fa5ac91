package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance"
	"github.com/trailwatch/trailwatch/respond/adapter/dynamics"
	"github.com/trailwatch/trailwatch/respond/adapter/registry"
	"github.com/trailwatch/trailwatch/respond/adapter/salesforce"
)

func newRevertCmd(a *app) *cobra.Command {
	var (
		tenant, object, id, field, to, byUser, format, apply, actor string
		between                                                     []string
		enforce                                                     bool
	)
	cmd := &cobra.Command{
		Use:   "revert --tenant T (--object TYPE --id X --to TIME | --by-user U --between T1 T2 [--object TYPE] [--field F])",
		Short: "Plan (and optionally apply) the writes that roll a record or a user's bulk change back",
		Long: `Builds a rollback plan from the stored audit trail: for one record, the writes
that restore its field values as of --to; for a user's bulk change, the writes
that restore every field the user changed between the two --between instants
to its value before, with conflicts marked where someone changed the field
again afterwards (conflicts are never written). Prints the plan as a table,
JSON or CSV (for a CRM's import tools).

With --apply ADAPTER (a salesforce or dynamics365 adapter of
respond.adapters) the plan is applied through the vendor API: a dry run unless --enforce is given. Each
write is recorded as a revert_field action on the actions topic with an id
derived from the plan, and a field that already holds its restored value, or
that the CRM shows changed since the trail's last change, is not written.
Dynamics 365 lookups (and other columns record updates cannot type) are
refused and reported as failed, never written wrongly. Reads and updates
refused for a rate limit or an outage are retried three times, after the
wait the CRM asks for (at most a minute). See docs/COMPLIANCE.md.`,
		Example: `  trailwatch revert --tenant acme --by-user 005xx000001Sv6d --between 2026-11-03T09:00:00Z 2026-11-03T10:00:00Z --object opportunity --field StageName
  trailwatch revert --tenant acme --object contact --id 003xx000004TmiQ --to 2026-11-03T09:00:00Z --format csv
  trailwatch revert --tenant acme --by-user 005xx000001Sv6d --between 2026-11-03T09:00:00Z 2026-11-03T10:00:00Z --apply sf-prod --enforce --actor jane`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			// "--between T1 T2": the flag takes T1, T2 arrives as an argument.
			if len(args) == 1 {
				if len(between) != 1 {
					return fmt.Errorf("unexpected argument %q", args[0])
				}
				between = append(between, args[0])
			}
			bad := func(e error) { errs = append(errs, e) }
			parse := func(flag, v string) time.Time {
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					bad(fmt.Errorf("%s: %q is not an RFC 3339 time (2026-11-03T09:00:00Z)", flag, v))
				}
				return t.UTC()
			}
			if tenant == "" {
				bad(errors.New("--tenant: required"))
			}
			if err := compliance.CheckFormat(format); err != nil {
				bad(err)
			}
			s := compliance.Scope{Tenant: tenant, ObjectType: object, Field: field}
			switch {
			case byUser != "" && id != "":
				bad(errors.New("give either --by-user (a bulk change) or --id (one record), not both"))
			case byUser != "":
				if to != "" {
					bad(errors.New("--to goes with --id; a bulk change takes --between T1 T2"))
				}
				if len(between) != 2 {
					bad(fmt.Errorf("--between: want two instants, T1 and T2, got %d", len(between)))
				} else {
					s.UserID, s.From, s.To = byUser, parse("--between", between[0]), parse("--between", between[1])
					if s.To.Before(s.From) {
						bad(errors.New("--between: T2 is before T1"))
					}
				}
			case id != "":
				if object == "" || to == "" {
					bad(errors.New("one record takes --object TYPE --id X --to TIME"))
				}
				if field != "" || len(between) > 0 {
					bad(errors.New("--field and --between go with --by-user"))
				}
				s.ObjectID = id
				if to != "" {
					s.To = parse("--to", to)
				}
			default:
				bad(errors.New("give --by-user U --between T1 T2, or --object TYPE --id X --to TIME"))
			}
			if enforce && apply == "" {
				bad(errors.New("--enforce goes with --apply ADAPTER"))
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			ctx := cmd.Context()
			cfg, st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var plan compliance.Plan
			if s.UserID != "" {
				changes, err := compliance.UserChanges(ctx, st, s)
				if err != nil {
					return err
				}
				plan = compliance.PlanUser(s, changes)
			} else {
				vs, err := compliance.Versions(ctx, st, compliance.RecordRef{Tenant: tenant, ObjectType: object, ObjectID: id}, time.Now())
				if err != nil {
					return err
				}
				plan = compliance.PlanRecord(s, vs)
			}
			if apply == "" {
				return plan.Write(cmd.OutOrStdout(), format)
			}

			ad, ok := cfg.Respond.Core.Adapters[apply]
			if !ok {
				return fmt.Errorf("--apply: no adapter %q in respond.adapters", apply)
			}
			crm, err := recordStore(apply, ad)
			if err != nil {
				return err
			}
			rec, closeRec, err := actionsRecorder(cfg)
			if err != nil {
				return err
			}
			defer closeRec()
			outs, applyErr := compliance.Apply(ctx, plan, crm, rec,
				// A rate limit or an outage is waited out (up to a minute a
				// time, three times); what still fails is reported, and a
				// re-run finishes it.
				compliance.ApplyOptions{Enforce: enforce, Actor: actor, Retries: 3})
			w := cmd.OutOrStdout()
			if err := plan.Write(w, format); err != nil {
				return err
			}
			if format == "table" {
				fmt.Fprintln(w)
				for _, o := range outs {
					fmt.Fprintf(w, "%s\t%s\t%s\n", o.ActionID, o.Status, o.Detail)
				}
			}
			return applyErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "the tenant")
	f.StringVar(&object, "object", "", "object type (object.type): the record's, or only this type of a bulk change")
	f.StringVar(&id, "id", "", "the record to roll back (object.id)")
	f.StringVar(&to, "to", "", "RFC 3339 instant the record is rolled back to")
	f.StringVar(&byUser, "by-user", "", "roll back this account's changes (user.id)")
	f.StringSliceVar(&between, "between", nil, "the bulk change's window: two RFC 3339 instants, T1 T2 (or T1,T2)")
	f.StringVar(&field, "field", "", "only this field of a bulk change")
	f.StringVar(&format, "format", "table", "output: table, json or csv")
	f.StringVar(&apply, "apply", "", "apply through this respond adapter (salesforce or dynamics365); a dry run without --enforce")
	f.BoolVar(&enforce, "enforce", false, "with --apply: really write to the CRM")
	f.StringVar(&actor, "actor", "", "who asks for the rollback (recorded on every action)")
	return cmd
}

// recordStore is the record client of the adapter named name, for the
// adapter kinds that have one.
func recordStore(name string, ad registry.Adapter) (compliance.RecordStore, error) {
	switch {
	case ad.Kind == registry.KindSalesforce && ad.Salesforce != nil:
		c, err := salesforce.New(*ad.Salesforce, nil)
		if err != nil {
			return nil, err
		}
		return compliance.SalesforceRecords{Client: c}, nil
	case ad.Kind == registry.KindDynamics && ad.Dynamics != nil:
		c, err := dynamics.New(*ad.Dynamics, nil)
		if err != nil {
			return nil, err
		}
		return compliance.NewDynamicsRecords(c), nil
	}
	return nil, fmt.Errorf("--apply: adapter %q is a %s adapter, which has no record updates; use a %s or %s adapter",
		name, ad.Kind, registry.KindSalesforce, registry.KindDynamics)
}
