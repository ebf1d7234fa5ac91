package main

import "github.com/spf13/cobra"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "trailwatch",
		Short:         "Real-time security detections over CRM audit trails",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newReplayCmd(), newRulesCmd())
	return root
}
