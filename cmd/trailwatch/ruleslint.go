package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/rulelint"
)

// errLintFailed makes lint exit non-zero after printing its findings.
var errLintFailed = errors.New("rules lint found errors")

func newRulesLintCmd() *cobra.Command {
	var strict, asJSON bool
	var config string
	cmd := &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Check rules for mistakes loading does not catch",
		Long: `Lint loads the rules in DIR (default "rules") and reports, each with its file,
line, severity and code:

  errors    load     unknown fields, type errors, bad values (from the loader)
            duplicate-id
            never-fires   a filter, condition or step that can never be true:
                          contradictory constant comparisons, values outside a
                          closed set (event.outcome == "failed"), lower(x) compared
                          with capitals, a count above max_window_events, a
                          distinct count above the values that exist, an elapsed
                          time longer than previous keeps
  warnings  no-tests, tests-never-fire, tests-never-quiet
            unused-list, unused-param
            expensive-key, expensive-window, no-filter, long-sequence,
            tenant-wide-state       state that grows with traffic
            no-description, no-runbook, no-summary, no-actions, no-tags,
            no-technique, bad-tag

A broken file does not hide the findings of the others. Lint exits non-zero
when there is an error (with --strict, a warning too).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "rules"
			if len(args) == 1 {
				dir = args[0]
			}
			return runRulesLint(dir, config, strict, asJSON, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "exit non-zero on warnings too")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print findings as JSON lines")
	cmd.Flags().StringVar(&config, "config", "", "detector configuration (YAML) the rules run under: limits and tenant overrides")
	return cmd
}

func runRulesLint(dir, config string, strict, asJSON bool, w io.Writer) error {
	var opt rulelint.Options
	if config != "" {
		cfg, err := detect.LoadConfig(config)
		if err != nil {
			return err
		}
		opt.Config = &cfg
	}
	rep, err := rulelint.Dir(dir, opt)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for _, f := range rep.Findings {
		if asJSON {
			if err := enc.Encode(f); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(w, f.String())
	}
	errs := rep.Errors()
	warns := len(rep.Findings) - errs
	if !asJSON {
		fmt.Fprintf(w, "%s: %d rules in %d files, %d errors, %d warnings\n", dir, rep.Rules, rep.Files, errs, warns)
	}
	if errs > 0 || (strict && warns > 0) {
		return errLintFailed
	}
	return nil
}
