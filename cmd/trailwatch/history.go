package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance"
)

func newHistoryCmd(a *app) *cobra.Command {
	var (
		tenant, object, id, asOf, format string
		access                           bool
	)
	cmd := &cobra.Command{
		Use:   "history --tenant T --object TYPE --id X [--as-of TIME] [--access]",
		Short: "Show a record's versions, its field values as of an instant, and who accessed it",
		Long: `Reads the stored audit trail (named queries record-versions, record-as-of and
record-access) and prints every version of one record in order (who, when,
from where, which fields changed from what to what, the stated reason), the
record's field values as of --as-of reconstructed from the stored changes,
and with --access who viewed or exported it. See docs/COMPLIANCE.md.`,
		Example: `  trailwatch history --tenant acme --object contact --id 003xx000004TmiQ
  trailwatch history --tenant acme --object opportunity --id 006xx0000012345 --as-of 2026-11-03T09:00:00Z --format json
  trailwatch history --tenant acme --object contact --id 003xx000004TmiQ --access --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var errs []error
			if tenant == "" {
				errs = append(errs, errors.New("--tenant: required"))
			}
			if object == "" {
				errs = append(errs, errors.New("--object: required (the record's object.type, or - for any)"))
			}
			if id == "" {
				errs = append(errs, errors.New("--id: required (the record's object.id)"))
			}
			if err := compliance.CheckFormat(format); err != nil {
				errs = append(errs, err)
			}
			at := time.Now().UTC()
			if asOf != "" {
				t, err := time.Parse(time.RFC3339Nano, asOf)
				if err != nil {
					errs = append(errs, fmt.Errorf("--as-of: %q is not an RFC 3339 time (2026-11-03T09:00:00Z)", asOf))
				}
				at = t.UTC()
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			ctx := cmd.Context()
			_, st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			rec := compliance.RecordRef{Tenant: tenant, ObjectType: object, ObjectID: id}
			h := compliance.History{Tenant: tenant, ObjectType: object, ObjectID: id, AsOf: at}
			if h.Versions, err = compliance.Versions(ctx, st, rec, at); err != nil {
				return err
			}
			if h.State, err = compliance.AsOf(ctx, st, rec, at); err != nil {
				return err
			}
			if access {
				if h.Access, err = compliance.AccessHistory(ctx, st, tenant, id, time.Unix(0, 0), at); err != nil {
					return err
				}
				if h.Access == nil {
					h.Access = []compliance.Access{}
				}
			}
			return h.Write(cmd.OutOrStdout(), format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "the tenant")
	f.StringVar(&object, "object", "", "the record's type (object.type: contact, opportunity, …; - for any)")
	f.StringVar(&id, "id", "", "the record's id (object.id)")
	f.StringVar(&asOf, "as-of", "", "RFC 3339 instant for the versions and field values (default now)")
	f.BoolVar(&access, "access", false, "also list who viewed, searched or exported the record")
	f.StringVar(&format, "format", "table", "output: table, json or csv")
	return cmd
}
