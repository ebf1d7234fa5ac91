package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/backtest"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

type backtestOptions struct {
	rule, rules, since, until, tenant, config, out string
	asJSON                                         bool
	samples, top                                   int
}

func newRulesBacktestCmd(a *app) *cobra.Command {
	var o backtestOptions
	cmd := &cobra.Command{
		Use:   "backtest --rule ID [--rules DIR] --since 30d [--until TIME] [--tenant T]",
		Short: "Run a rule over the history in ClickHouse and report what it would have raised",
		Long: `Backtest runs one rule, new or changed, over the events stored in ClickHouse's
audit_events, in event-time order, with the same engine as the detector, and
reports the alerts it would have raised: per day, the top groups, and samples.
Nothing is written anywhere: no topic, no table, no page.

Rules grouped by person or account read each person's events in the table's
order (fast, no sort); others read a day at a time in time order. The rule's
longest span before --since is read as a warm-up, so windows, sequences and
histories start as the live detector's would.`,
		Example: `  trailwatch rules backtest --rule auth.new_country --since 30d
  trailwatch rules backtest --rules my-rules --rule data.record_scraping --since 2026-10-01 --until 2026-11-01 --tenant acme --out alerts.ndjson`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			return runBacktest(cmd, st, o, time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.rule, "rule", "", "id of the rule to run")
	f.StringVar(&o.rules, "rules", "rules", "directory of rules (the rule and the lists it uses)")
	f.StringVar(&o.since, "since", "30d", "start: a duration before --until (30d, 12h) or a date or RFC 3339 time")
	f.StringVar(&o.until, "until", "", "end: a date or RFC 3339 time (default now)")
	f.StringVar(&o.tenant, "tenant", "", "only this tenant")
	f.StringVar(&o.config, "detect-config", "", "detector configuration (YAML): calendars and the rule's tenant overrides")
	f.StringVar(&o.out, "out", "", "write every alert it would have raised to this file (NDJSON)")
	f.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	f.IntVar(&o.samples, "samples", 5, "sample alerts to show")
	f.IntVar(&o.top, "top", 10, "top groups to show")
	_ = cmd.MarkFlagRequired("rule")
	return cmd
}

// backtestSpan reads --since and --until.
func backtestSpan(since, until string, now time.Time) (time.Time, time.Time, error) {
	to := now.UTC()
	if until != "" {
		t, err := parseStart(until)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--until: %w", err)
		}
		to = t
	}
	if d, err := detect.ParseDuration(since); err == nil {
		if d <= 0 {
			return time.Time{}, time.Time{}, fmt.Errorf("--since: %q must be longer than zero", since)
		}
		return to.Add(-d), to, nil
	}
	from, err := parseStart(since)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--since: %q is neither a duration (30d) nor a time (2026-10-01)", since)
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, fmt.Errorf("--since %s is not before --until %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

func runBacktest(cmd *cobra.Command, st *chstore.Store, o backtestOptions, now time.Time) error {
	w, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	since, until, err := backtestSpan(o.since, o.until, now)
	if err != nil {
		return err
	}
	rs, err := detect.Load(o.rules)
	if err != nil {
		return fmt.Errorf("loading rules:\n%w", err)
	}
	opt := backtest.Options{Rule: o.rule, Since: since, Until: until, Tenant: o.tenant, Samples: o.samples, Top: o.top}
	if o.config != "" {
		cfg, err := detect.LoadConfig(o.config)
		if err != nil {
			return err
		}
		opt.Config = &cfg
	}
	if isTerminal(stderr) {
		bar := &progressBar{w: stderr, start: time.Now()}
		opt.Progress = bar.update
		defer bar.done()
	}
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		opt.OnAlert = func(a *alert.Alert) error { return writeJSON(bw, a) }
	}
	rep, err := backtest.Run(cmd.Context(), st, rs, opt)
	if err != nil {
		return err
	}
	if o.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBacktest(w, rep)
	return nil
}

func printBacktest(w io.Writer, rep *backtest.Report) {
	fmt.Fprintf(w, "%s (version %s) over %s to %s: %d alerts from %d events (read from %s, the rule's warm-up; by %s)\n\n",
		rep.Rule, rep.Version, rep.Since.Format(time.RFC3339), rep.Until.Format(time.RFC3339), rep.Alerts, rep.Events, rep.From.Format(time.RFC3339), rep.Mode)
	most := 1
	for _, d := range rep.PerDay {
		most = max(most, d.Alerts)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tALERTS\t")
	for _, d := range rep.PerDay {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", d.Day, d.Alerts, strings.Repeat("█", (d.Alerts*40+most-1)/most))
	}
	tw.Flush()
	if len(rep.TopGroups) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TENANT\tGROUP\tALERTS")
		for _, g := range rep.TopGroups {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", g.Tenant, g.Group, g.Alerts)
		}
		tw.Flush()
	}
	if len(rep.Samples) > 0 {
		fmt.Fprintln(w, "\nsamples:")
		for _, a := range rep.Samples {
			fmt.Fprintf(w, "  %s  %s  %s\n", a.TriggeredAt.UTC().Format(time.RFC3339), a.Tenant, a.Summary)
		}
	}
	if rep.Late > 0 {
		fmt.Fprintf(w, "\n%d events arrived after the watermark and were not seen by the rule's state\n", rep.Late)
	}
}

// isTerminal says whether w is a terminal (a progress bar there, nothing
// in a pipe or a file).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws "[#####.....] 45%  120,000/270,000 events  8s" on one
// line, at most ten times a second.
type progressBar struct {
	w     io.Writer
	start time.Time
	last  time.Time
	drawn bool
}

func (p *progressBar) update(read, total int64) {
	now := time.Now()
	if p.drawn && now.Sub(p.last) < 100*time.Millisecond && read < total {
		return
	}
	p.last, p.drawn = now, true
	frac := 1.0
	if total > 0 {
		frac = min(1, float64(read)/float64(total))
	}
	n := int(frac * 30)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d/%d events  %s ", strings.Repeat("#", n), strings.Repeat(".", 30-n), frac*100, read, total, now.Sub(p.start).Round(time.Second))
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
