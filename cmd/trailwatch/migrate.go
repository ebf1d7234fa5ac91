package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/chstore"
	chschema "github.com/trailwatch/trailwatch/schemas/clickhouse"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the ClickHouse migrations (idempotent; every role also does it on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.flags.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := chstore.Open(ctx, cfg.ClickHouse, logger(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			ms, err := chstore.LoadMigrations(chschema.Migrations)
			if err != nil {
				return err
			}
			done, err := st.Migrate(ctx, ms)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d migrations applied, %d already in place (database %s at %s)\n", len(done), len(ms)-len(done), st.Database(), st.URL())
			return nil
		},
	}
}
