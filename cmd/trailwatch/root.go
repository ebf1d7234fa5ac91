package main

import "github.com/spf13/cobra"

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
	)
	return root
}
