package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/trailwatch/trailwatch/internal/chstore"
)

// app is what every subcommand shares: the global flags and, through
// them, the configuration.
type app struct {
	flags globalFlags
}

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "trailwatch",
		Short:         "Real-time security detections over CRM audit trails",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	a.flags.register(root)
	root.AddCommand(
		newClickHouseCmd(a),
		newQueryCmd(a),
		newMigrateCmd(a),
		newConfigCmd(a),
		newRunCmd(a),
		newDetectCmd(a),
		newNormalizeCmd(),
		newIngestCmd(a),
		newReplayCmd(),
		newRulesCmd(a),
		newSimulateCmd(),
		newScoreCmd(),
		newSinkCmd(a),
		newVerifyCmd(a),
		newGDPRCmd(a),
		newRespondCmd(a),
		newActionsCmd(a),
		newIdentityCmd(a),
		newHistoryCmd(a),
		newRevertCmd(a),
		newAuditCmd(a),
		newLevelsCmd(a),
		newReportCmd(a),
		newBenchCmd(),
	)
	return root
}

// openStore loads the configuration and opens its ClickHouse store, for
// the commands that read or write ClickHouse once; close the store when
// done.
func (a *app) openStore(ctx context.Context) (*Config, *chstore.Store, error) {
	cfg, err := a.flags.load()
	if err != nil {
		return nil, nil, err
	}
	st, err := chstore.Open(ctx, cfg.ClickHouse, logger(cfg))
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}
