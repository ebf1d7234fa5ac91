package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/internal/config"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "docs",
		Short: "Print the settings reference (docs/CONFIG.md) generated from the code",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), configDocs())
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Load and validate the configuration, reporting every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.flags.load(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "configuration OK")
			return nil
		},
	})
	return cmd
}

// configDocs is docs/CONFIG.md.
func configDocs() string {
	return `# Configuration reference

Generated from the code by ` + "`trailwatch config docs`" + `; a test fails when this
file and the code disagree.

Settings are read, later overriding earlier, from: the defaults below, the
YAML file given by ` + "`--config`" + ` or ` + "`TRAILWATCH_CONFIG`" + `, then the environment variables
below (lists comma-separated), then command-line flags. Secrets are never
settings: passwords and tokens come from files named here, or from the
environment variables the settings mention.

` + config.Markdown(defaultConfig())
}
