package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/score"
	"github.com/trailwatch/trailwatch/internal/simulate"
)

type scoreOptions struct {
	labels, alerts, slack  string
	minRecall, minPrecison float64
	asJSON                 bool
	show                   int
}

// errBelowThreshold makes score exit non-zero when a gate is not met.
var errBelowThreshold = errors.New("below the required recall or precision")

func newScoreCmd() *cobra.Command {
	var o scoreOptions
	cmd := &cobra.Command{
		Use:   "score --labels labels.ndjson --alerts alerts.ndjson",
		Short: "Grade alerts against a simulation's labels: recall, precision and delay per kind",
		Long: `Score matches alerts (from trailwatch replay or the detector) to the episodes
of a labels file (from trailwatch simulate) and reports, per attack kind,
recall (episodes an alert of the kind's rule caught), precision of the rule's
alerts and detection delay (event time from the episode's start to the first
alert); per benign look-alike, the false alarms it drew; and overall
precision.

An alert matches an episode when the tenant is the same, the alert was
triggered within the episode's span widened by --slack on each side, and
either its evidence shares an event with the episode, or its rule is the
episode's rule and one of its group values names the episode's person,
account, login or record. An alert matching an attack episode is a true
positive; any other is a false positive. See docs/DETECTIONS.md.

With --min-recall or --min-precision it exits non-zero when any attack
kind's recall, or the overall precision, is below the bound.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScore(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.labels, "labels", "", "labels file (NDJSON) from trailwatch simulate")
	f.StringVar(&o.alerts, "alerts", "", "alerts file (NDJSON) from trailwatch replay or the detector")
	f.StringVar(&o.slack, "slack", "1h", "how far outside an episode's span an alert may be triggered and still match it")
	f.Float64Var(&o.minRecall, "min-recall", 0, "fail when any attack kind's recall is below this")
	f.Float64Var(&o.minPrecison, "min-precision", 0, "fail when the overall precision is below this")
	f.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	f.IntVar(&o.show, "show", 20, "list at most this many missed episodes and false alarms")
	_ = cmd.MarkFlagRequired("labels")
	_ = cmd.MarkFlagRequired("alerts")
	return cmd
}

func runScore(o scoreOptions, w io.Writer) error {
	slack, err := detect.ParseDuration(o.slack)
	if err != nil || slack < 0 {
		return fmt.Errorf("--slack: %q is not a duration such as 30m or 1h", o.slack)
	}
	if o.minRecall < 0 || o.minRecall > 1 || o.minPrecison < 0 || o.minPrecison > 1 {
		return errors.New("--min-recall and --min-precision are fractions from 0 to 1")
	}
	lf, err := os.Open(o.labels)
	if err != nil {
		return fmt.Errorf("--labels: %w", err)
	}
	defer lf.Close()
	labels, err := simulate.ReadLabels(lf, o.labels)
	if err != nil {
		return err
	}
	af, err := os.Open(o.alerts)
	if err != nil {
		return fmt.Errorf("--alerts: %w", err)
	}
	defer af.Close()
	alerts, err := score.ReadAlerts(af, o.alerts)
	if err != nil {
		return err
	}
	rep := score.Score(labels, alerts, score.Options{Slack: slack})
	if o.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.Write(w, o.show)
	}
	failed := o.minPrecison > 0 && rep.Precision < o.minPrecison
	for _, k := range rep.Kinds {
		failed = failed || (o.minRecall > 0 && k.Recall < o.minRecall)
	}
	if failed {
		return errBelowThreshold
	}
	return nil
}
