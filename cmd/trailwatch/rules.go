package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
)

func newRulesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with detection rules: test, lint and backtest them",
	}
	cmd.AddCommand(newRulesTestCmd(), newRulesLintCmd(), newRulesBacktestCmd(a))
	return cmd
}

// errTestsFailed makes the command exit non-zero after printing results.
var errTestsFailed = errors.New("rule tests failed")

func newRulesTestCmd() *cobra.Command {
	var run string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run every rule's tests, printing results like go test",
		Long: `Test loads the rules in DIR (default "rules"), runs each rule's tests
(their events through the engine, then their expectations) and prints the
results like go test. It exits non-zero when a rule fails to load or a test
fails.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "rules"
			if len(args) == 1 {
				dir = args[0]
			}
			return runRulesTest(dir, run, verbose, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run only tests whose rule/test name matches this regular expression")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every test, not only failures")
	return cmd
}

func runRulesTest(dir, run string, verbose bool, w io.Writer) error {
	start := time.Now()
	var re *regexp.Regexp
	if run != "" {
		var err error
		if re, err = regexp.Compile(run); err != nil {
			return fmt.Errorf("-run: %w", err)
		}
	}
	rs, err := detect.Load(dir)
	if err != nil {
		fmt.Fprintf(w, "%v\nFAIL\t%s [load failed]\n", err, dir)
		return errTestsFailed
	}
	results := detect.RunTests(rs, func(rule, test string) bool {
		return re == nil || re.MatchString(rule+"/"+test)
	})
	failed := 0
	for _, r := range results {
		name := r.Rule + "/" + r.Test
		if verbose {
			fmt.Fprintf(w, "=== RUN   %s\n", name)
		}
		if r.Passed() {
			if verbose {
				fmt.Fprintf(w, "--- PASS: %s\n", name)
			}
			continue
		}
		failed++
		fmt.Fprintf(w, "--- FAIL: %s\n", name)
		for _, f := range r.Failures {
			msg := strings.ReplaceAll(f, "\n", "\n        ")
			fmt.Fprintf(w, "    %s:%d: %s\n", r.File, r.Line, msg)
		}
	}
	untested := 0
	for _, r := range rs.Rules {
		if len(r.Tests) == 0 {
			untested++
		}
	}
	elapsed := time.Since(start).Seconds()
	if failed > 0 {
		fmt.Fprintf(w, "FAIL\n%d of %d tests failed\nFAIL\t%s\t%.3fs\n", failed, len(results), dir, elapsed)
		return errTestsFailed
	}
	if verbose {
		fmt.Fprintln(w, "PASS")
	}
	note := ""
	if untested > 0 {
		note = fmt.Sprintf(" (%d rules without tests)", untested)
	}
	fmt.Fprintf(w, "ok  \t%s\t%.3fs\t%d rules, %d tests%s\n", dir, elapsed, len(rs.Rules), len(results), note)
	return nil
}
