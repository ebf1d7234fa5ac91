package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/sink"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the ClickHouse migrations and retention (idempotent; the sink also does it on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := cfg.Storage.Validate(); err != nil {
				return err
			}
			res, err := sink.Migrate(ctx, st, cfg.Storage, logger(cfg))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d migrations applied, %d reapplied, %d skipped (need a ClickHouse server); retention applied (database %s at %s)\n",
				len(res.Applied), len(res.Reapplied), len(res.Skipped), st.Database(), st.URL())
			return nil
		},
	}
}
