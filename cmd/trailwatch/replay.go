package main

import (
	"bufio"
	"context"
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

// replayBatches is how many batches of decoded lines are in use at once:
// one being decoded, one being evaluated, and slack between them.
const (
	replayBatches   = 4
	replayBatchSize = 256
)

// replayBatch is a run of consecutive lines, decoded. The events are
// reused batch after batch (decoding into an event reuses its slices), and
// so are the bytes their strings point into: buf holds the batch's lines,
// decoded without a copy of each (detect.DecodeEventIntoNoCopy). The engine
// copies what it keeps, so buf is overwritten only once the batch has been
// evaluated and handed back.
type replayBatch struct {
	items []replayLine
	buf   []byte
}

// replayBatchBytes ends a batch early once its lines hold this much, so a
// file of large events does not hold large batches.
const replayBatchBytes = 1 << 20

// replayLine is one line: its number and its event, or why it is not one.
type replayLine struct {
	line int
	ev   event.Event
	err  error
}

// decodeLines reads and decodes lines into batches taken from free and
// sends them, in order, on full, until the input ends (nil), reading fails
// (the error) or ctx ends (nil: whoever stopped it knows why). Once ctx
// has ended it blocks on no channel.
func decodeLines(ctx context.Context, lr *record.LineReader, name string, full chan<- *replayBatch, free <-chan *replayBatch) error {
	maxEvent := detect.DecodeOptions().MaxBytes // what the decoder refuses by size alone
	for {
		var b *replayBatch
		select {
		case b = <-free:
		case <-ctx.Done():
			return nil // stopped by the consumer, which says why
		}
		if cap(b.items) < replayBatchSize {
			b.items = make([]replayLine, 0, replayBatchSize)
		}
		b.items, b.buf = b.items[:0], b.buf[:0]
		var end error
		for len(b.items) < replayBatchSize && len(b.buf) < replayBatchBytes {
			line, n, err := lr.Next()
			if errors.Is(err, io.EOF) {
				end = io.EOF
				break
			}
			var tooLong *record.LineError
			if errors.As(err, &tooLong) {
				b.items = b.items[:len(b.items)+1]
				it := &b.items[len(b.items)-1]
				it.line, it.err = n, fmt.Errorf("line is longer than %d bytes", maxLine)
				continue
			}
			if err != nil {
				end = fmt.Errorf("reading %s: %w", name, err)
				break
			}
			b.items = b.items[:len(b.items)+1]
			it := &b.items[len(b.items)-1]
			it.line = n
			if len(line) > maxEvent {
				// Refused by its size before it is read: not worth a copy.
				it.err = detect.DecodeEventInto(&it.ev, line)
				continue
			}
			// The line is copied into buf, and the event decoded from
			// there. When buf grows, the events before keep pointing
			// into its old array, which nothing writes again.
			start := len(b.buf)
			b.buf = append(b.buf, line...)
			it.err = detect.DecodeEventIntoNoCopy(&it.ev, b.buf[start:])
		}
		if len(b.items) > 0 {
			select {
			case full <- b:
			case <-ctx.Done():
				return nil
			}
		}
		if end != nil {
			if errors.Is(end, io.EOF) {
				return nil
			}
			return end
		}
	}
}

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
	// Lines are read and decoded on a goroutine of their own, a batch at a
	// time, while the engine evaluates the batch before: on two cores
	// decoding (validation included) comes off the engine's critical path.
	// Batches come back in order, so alerts, reports and the summary are
	// those of reading one line after another.
	var out []detect.Output
	var events, rejected, alerts, actions, lates int
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	full, free := make(chan *replayBatch, replayBatches), make(chan *replayBatch, replayBatches)
	for range replayBatches {
		free <- &replayBatch{}
	}
	read := make(chan error, 1)
	go func() {
		defer close(full)
		read <- decodeLines(ctx, record.NewLineReader(in, maxLine), name, full, free)
	}()
	// evaluate takes the batches in order until the reader closes full.
	// On an error it returns at once: the deferred stop tells the reader,
	// which may be waiting on its input, to stop at its next step (it
	// never blocks on the channels once stopped).
	evaluate := func() error {
		for b := range full {
			for i := range b.items {
				it := &b.items[i]
				if it.err != nil {
					rejected++
					fmt.Fprintf(stderr, "%s:%d: %v\n", name, it.line, it.err)
					continue
				}
				events++
				out = sh.Process(&it.ev, out[:0])
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
								name, it.line, x.Late.EventID, x.Late.Timestamp.Format(time.RFC3339Nano), x.Late.Watermark.Format(time.RFC3339Nano), x.Late.Rules)
						}
					}
				}
			}
			free <- b // never blocks: free has room for every batch
		}
		return nil
	}
	if err := evaluate(); err != nil {
		return err
	}
	// full is closed: the reader has ended, after the batches before any
	// reading error.
	if err := <-read; err != nil {
		return err
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
