package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func newReplayCmd() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --rules DIR --in events.ndjson [--out alerts.ndjson]",
		Short: "Run the rules over a file of events, offline, in event time",
		Long: `Replay runs the detection engine over canonical events (NDJSON, one per
line) exactly as the live detector does over one partition: in event time,
with the same watermark and lateness, so the same file always gives the
same alerts with the same ids. Events are validated as at ingest (every
rule and limit of the contract) except against the clock: any age and any
time ahead are accepted, so a file replays the same on any day. Lines that
are not valid events are reported on stderr with their line number and the
field and reason, and skipped. A summary per rule follows.

detected_at is the trigger's event time (replay has no live clock).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReplay(o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.rules, "rules", "rules", "directory of rules")
	f.StringVar(&o.in, "in", "", "events file (NDJSON), or - for stdin")
	f.StringVar(&o.out, "out", "-", "alerts file (NDJSON), or - for stdout")
	f.StringVar(&o.actions, "actions", "", "actions file (NDJSON); none if empty")
	f.StringVar(&o.config, "config", "", "detector configuration file (YAML): lateness, limits, tenants")
	f.StringVar(&o.lateness, "lateness", "", "allowed lateness, such as 1m or 2h (overrides the configuration)")
	_ = cmd.MarkFlagRequired("in")
	return cmd
}

type replayOptions struct {
	rules, in, out, actions, config, lateness string
}

// maxLine bounds one input line; the contract caps an event at 64 KiB.
const maxLine = 1 << 20

func runReplay(o replayOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	rs, err := detect.Load(o.rules)
	if err != nil {
		return fmt.Errorf("loading rules:\n%w", err)
	}
	cfg := detect.DefaultConfig()
	if o.config != "" {
		if cfg, err = detect.LoadConfig(o.config); err != nil {
			return err
		}
	}
	if o.lateness != "" {
		d, err := detect.ParseDuration(o.lateness)
		if err != nil {
			return fmt.Errorf("--lateness: %w", err)
		}
		cfg.Lateness = d
	}
	eng, err := detect.NewEngine(rs, cfg)
	if err != nil {
		return fmt.Errorf("compiling rules: %w", err)
	}

	name := o.in
	var in io.Reader = stdin
	if o.in != "-" {
		file, err := os.Open(o.in)
		if err != nil {
			return fmt.Errorf("opening events: %w", err)
		}
		defer file.Close()
		in = file
	} else {
		name = "stdin"
	}
	alertsW, closeAlerts, err := openOut(o.out, stdout)
	if err != nil {
		return err
	}
	defer closeAlerts()
	var actionsW *bufio.Writer
	if o.actions != "" {
		w, closeActions, err := openOut(o.actions, stdout)
		if err != nil {
			return err
		}
		defer closeActions()
		actionsW = w
	}
	summaryW := stdout
	if o.out == "-" {
		summaryW = stderr
	}

	start := time.Now()
	sh := eng.NewShard()
	lr := record.NewLineReader(in, maxLine)
	var out []detect.Output
	var ev event.Event // decoded into again for every line: Process keeps nothing of it
	var lines, events, rejected, alerts, actions, lates int
	for {
		line, n, err := lr.Next()
		var tooLong *record.LineError
		if errors.Is(err, io.EOF) {
			break
		}
		lines = n
		if errors.As(err, &tooLong) {
			rejected++
			fmt.Fprintf(stderr, "%s:%d: line is longer than %d bytes\n", name, lines, maxLine)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if derr := detect.DecodeEventInto(&ev, line); derr != nil {
			rejected++
			fmt.Fprintf(stderr, "%s:%d: %v\n", name, lines, derr)
		} else {
			events++
			out = sh.Process(&ev, out[:0])
			for _, x := range out {
				switch x.Kind {
				case detect.OutputAlert:
					alerts++
					if err := writeJSON(alertsW, x.Alert); err != nil {
						return err
					}
				case detect.OutputAction:
					actions++
					if actionsW != nil {
						if err := writeJSON(actionsW, x.Action); err != nil {
							return err
						}
					}
				case detect.OutputLate:
					lates++
					if lates <= 10 {
						fmt.Fprintf(stderr, "%s:%d: event %s at %s is older than the watermark %s: stateful rules %v did not see it\n",
							name, lines, x.Late.EventID, x.Late.Timestamp.Format(time.RFC3339Nano), x.Late.Watermark.Format(time.RFC3339Nano), x.Late.Rules)
					}
				}
			}
		}
	}
	if err := alertsW.Flush(); err != nil {
		return fmt.Errorf("writing alerts: %w", err)
	}
	if actionsW != nil {
		if err := actionsW.Flush(); err != nil {
			return fmt.Errorf("writing actions: %w", err)
		}
	}
	elapsed := time.Since(start)
	printSummary(summaryW, sh.Stats(), replayTotals{events, rejected, lates, alerts, actions, elapsed})
	return nil
}

func openOut(path string, stdout io.Writer) (*bufio.Writer, func(), error) {
	if path == "-" {
		return bufio.NewWriterSize(stdout, 1<<16), func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return bufio.NewWriterSize(f, 1<<16), func() { f.Close() }, nil
}

func writeJSON(w *bufio.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding output: %w", err)
	}
	w.Write(b)
	return w.WriteByte('\n')
}

type replayTotals struct {
	events, rejected, late, alerts, actions int
	elapsed                                 time.Duration
}

func printSummary(w io.Writer, st detect.Stats, t replayTotals) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rule\tmatched\talerts\tsuppressed\tlate\tkeys\tevicted\terrors\t")
	for _, r := range st.Rules {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.Rule, r.Matched, r.Alerts, r.Suppressed, r.Late, r.Keys, r.Evicted, r.EvalErrors)
	}
	tw.Flush()
	rate := 0.0
	if t.elapsed > 0 {
		rate = float64(t.events) / t.elapsed.Seconds()
	}
	fmt.Fprintf(w, "%d events (%d rejected, %d late), %d alerts, %d actions in %s (%.0f events/s)\n",
		t.events, t.rejected, t.late, t.alerts, t.actions, t.elapsed.Round(time.Millisecond), rate)
}
