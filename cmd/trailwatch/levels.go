package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/compliance"
)

func newLevelsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "levels", Short: "Tracking levels (sink.tracking): what each would store"}
	var (
		tenant, format string
		days           int
	)
	est := &cobra.Command{
		Use:   "estimate --tenant T [--days N]",
		Short: "Estimate, from the last days' stored traffic, the events and bytes per day each tracking level would store",
		Long: `Reads the tenant's stored events of the last --days days (named query
tracking-volume) and reports, per source, the events and uncompressed bytes
per day the basic, standard and advanced levels keep (docs/COMPLIANCE.md).
Traffic a policy already drops is not in the store, so estimate before
lowering a level, not after.`,
		Example: `  trailwatch levels estimate --tenant acme --days 14`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var errs []error
			if tenant == "" {
				errs = append(errs, errors.New("--tenant: required"))
			}
			if days < 1 || days > 400 {
				errs = append(errs, fmt.Errorf("--days: must be between 1 and 400, got %d", days))
			}
			if format != "table" && format != "json" {
				errs = append(errs, fmt.Errorf("--format: %q, want table or json", format))
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
			to := time.Now().UTC()
			es, err := compliance.EstimateLevels(ctx, st, tenant, to.Add(-time.Duration(days)*24*time.Hour), to)
			if err != nil {
				return err
			}
			return compliance.WriteLevelEstimates(cmd.OutOrStdout(), es, format)
		},
	}
	est.Flags().StringVar(&tenant, "tenant", "", "the tenant")
	est.Flags().IntVar(&days, "days", 7, "how many days of traffic to read")
	est.Flags().StringVar(&format, "format", "table", "output: table or json")
	cmd.AddCommand(est)
	return cmd
}
