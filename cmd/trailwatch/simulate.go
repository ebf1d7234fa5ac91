package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// simulateOptions are the simulate command's flags, as typed.
type simulateOptions struct {
	seed                      uint64
	start, history            string
	days, tenants, people     int
	attacks, benign, batch    int
	kinds                     []string
	scenario                  string
	live                      bool
	out, labels, detectConfig string
	httpURL, tokenFile        string
	rate, disorder            float64
	maxDelay                  string
}

// ingestTokenEnv holds the ingest bearer token when no file is given.
const ingestTokenEnv = "TRAILWATCH_INGEST_TOKEN"

func newSimulateCmd() *cobra.Command {
	var o simulateOptions
	cmd := &cobra.Command{
		Use:   "simulate [--days N] [--out events.ndjson] [--labels labels.ndjson] [--http URL --rate N] [--live]",
		Short: "Generate realistic, labelled CRM activity with attacks and their look-alikes",
		Long: `Simulate generates multi-tenant CRM activity as canonical events: tenants in
several time zones and calendars, hundreds of people with roles, homes,
devices, working hours, vacations and trips, integration accounts with their
nightly jobs, and attack episodes for every detection of the rule pack mixed
with the benign look-alikes the rules must not fire on. The output is
deterministic for a seed and in event-time order.

Each episode is written to --labels (NDJSON) with its kind, tenant, subject,
time span and event ids; trailwatch score grades alerts against it. --detect-config
writes the detector configuration for the simulated tenants (their calendars),
for trailwatch replay --config.

Events go to --out (a file, or - for standard output), or with --http to
ingest's POST /v1/events (bearer token from --token-file or
` + ingestTokenEnv + `), --rate events per second (a simulated day in minutes;
timestamps stay realistic). --live starts now, puts an episode of every
attack kind in the first few minutes and releases events in real time, for
demos.`,
		Example: `  trailwatch simulate --days 5 --out events.ndjson --labels labels.ndjson --detect-config detect.yaml
  trailwatch replay --rules rules --config detect.yaml --in events.ndjson --out alerts.ndjson
  trailwatch score --labels labels.ndjson --alerts alerts.ndjson
  trailwatch simulate --live --http http://127.0.0.1:8080 --token-file token --labels labels.ndjson`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr(), time.Now())
		},
	}
	simulateFlags(cmd.Flags(), &o)
	return cmd
}

// simulateFlags declares the simulate command's flags into o.
func simulateFlags(f *pflag.FlagSet, o *simulateOptions) {
	d := simulate.DefaultConfig()
	f.Uint64Var(&o.seed, "seed", d.Seed, "random seed: the same flags and seed give the same output")
	f.StringVar(&o.start, "start", d.Start.Format(time.DateOnly), "start of the main period: a date (YYYY-MM-DD, UTC) or an RFC 3339 time")
	f.IntVar(&o.days, "days", d.Days, "days of activity (with --live, 0 runs until interrupted)")
	f.StringVar(&o.history, "history", "40d", "warm-up before --start: a thin record of logins, so rules with a history start informed (--live caps it at 6d)")
	f.IntVar(&o.tenants, "tenants", 0, "number of tenants (0: the scenario's; more repeats them under new ids)")
	f.IntVar(&o.people, "people", d.People, "people across all tenants")
	f.IntVar(&o.attacks, "attacks", 0, "episodes of each attack kind per tenant (0: one per three days)")
	f.IntVar(&o.benign, "benign", 0, "episodes of each benign look-alike kind per tenant (0: one per day)")
	f.StringSliceVar(&o.kinds, "kinds", nil, "only these episode kinds (comma-separated; default all): "+strings.Join(simulate.KindNames(), ", "))
	f.StringVar(&o.scenario, "scenario", "", "YAML file describing the tenants (default: the built-in five)")
	f.BoolVar(&o.live, "live", false, "start now, episodes in the first minutes, events released in real time")
	f.StringVar(&o.out, "out", "-", "events file (NDJSON), or - for standard output")
	f.StringVar(&o.labels, "labels", "", "labels file (NDJSON): one line per episode")
	f.StringVar(&o.detectConfig, "detect-config", "", "write the detector configuration for the simulated tenants to this file")
	f.StringVar(&o.httpURL, "http", "", "publish to ingest's HTTP endpoint (http://host:port or …/v1/events) instead of --out")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the ingest bearer token (default $"+ingestTokenEnv+")")
	f.Float64Var(&o.rate, "rate", 0, "events per second to publish at (0: as fast as possible; with --live, a cap)")
	f.IntVar(&o.batch, "batch", 500, "events per batch sent to --http")
	f.Float64Var(&o.disorder, "disorder", d.Disorder, "share of events delivered late (out of event-time order), as collectors do")
	f.StringVar(&o.maxDelay, "max-delay", "30s", "how late, in event time, a late event can be (keep it within the detector's lateness)")
}

// simulateConfig turns the flags into a configuration, reporting every
// problem at once, each naming its flag.
func simulateConfig(o simulateOptions, now time.Time) (simulate.Config, error) {
	cfg := simulate.DefaultConfig()
	var errs []error
	cfg.Seed, cfg.Days, cfg.Tenants, cfg.People = o.seed, o.days, o.tenants, o.people
	cfg.Attacks, cfg.Benign, cfg.Kinds, cfg.Live = o.attacks, o.benign, o.kinds, o.live
	if o.live {
		cfg.Start = now.UTC().Truncate(time.Second)
	} else if ts, err := parseStart(o.start); err != nil {
		errs = append(errs, fmt.Errorf("--start: %w", err))
	} else {
		cfg.Start = ts
	}
	cfg.Disorder = o.disorder
	if md, err := detect.ParseDuration(o.maxDelay); err != nil {
		errs = append(errs, fmt.Errorf("--max-delay: %w", err))
	} else {
		cfg.MaxDelay = md
	}
	if h, err := detect.ParseDuration(o.history); err != nil {
		errs = append(errs, fmt.Errorf("--history: %w", err))
	} else {
		cfg.History = h
	}
	if o.live && cfg.History > 6*24*time.Hour {
		// ingest's live path refuses events older than seven days
		cfg.History = 6 * 24 * time.Hour
	}
	if o.scenario != "" {
		src, err := os.ReadFile(o.scenario)
		if err != nil {
			errs = append(errs, fmt.Errorf("--scenario: %w", err))
		} else if sc, err := simulate.ParseScenario(o.scenario, src); err != nil {
			errs = append(errs, err)
		} else {
			cfg.Scenario = sc
		}
	}
	if o.rate < 0 || o.rate > 10_000_000 {
		errs = append(errs, fmt.Errorf("--rate: %g, want 0 to 10000000 events/s", o.rate))
	}
	if o.batch < 1 || o.batch > 100_000 {
		errs = append(errs, fmt.Errorf("--batch: %d, want 1 to 100000", o.batch))
	}
	if o.httpURL != "" && o.out != "-" {
		errs = append(errs, errors.New("--http and --out: choose one destination for the events"))
	}
	if len(errs) == 0 {
		if err := cfg.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return cfg, errors.Join(errs...)
}

// parseStart reads a date (midnight UTC) or an RFC 3339 time.
func parseStart(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a date (2026-11-02) or an RFC 3339 time (2026-11-02T08:00:00Z)", s)
	}
	return t, nil
}

func runSimulate(ctx context.Context, o simulateOptions, stdout, stderr io.Writer, now time.Time) error {
	cfg, err := simulateConfig(o, now)
	if err != nil {
		return err
	}
	sim, err := simulate.New(cfg)
	if err != nil {
		return err
	}
	if o.detectConfig != "" {
		if err := os.WriteFile(o.detectConfig, sim.DetectConfig(), 0o644); err != nil {
			return fmt.Errorf("--detect-config: %w", err)
		}
	}
	var sink simulate.Sink
	var httpSink *simulate.HTTPSink
	switch {
	case o.httpURL != "":
		token, err := readIngestToken(o.tokenFile)
		if err != nil {
			return err
		}
		if httpSink, err = simulate.NewHTTPSink(simulate.HTTPConfig{URL: o.httpURL, Token: token}); err != nil {
			return err
		}
		sink = httpSink
	case o.out == "-":
		sink = simulate.NewWriterSink(stdout, false)
	default:
		f, err := os.Create(o.out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		sink = simulate.NewWriterSink(f, true)
	}
	var pace *simulate.Pacer
	if o.rate > 0 || o.live {
		pace = &simulate.Pacer{Rate: o.rate, Live: o.live}
	}
	pub := simulate.NewPublisher(sink, pace, o.batch)
	labelsOut := io.Discard
	if o.labels != "" {
		f, err := os.Create(o.labels)
		if err != nil {
			return fmt.Errorf("--labels: %w", err)
		}
		defer f.Close()
		labelsOut = f
	}
	emit := func(e *event.Event) error { return pub.Emit(ctx, e) }
	label := func(l *simulate.Label) error { return simulate.WriteLabel(labelsOut, l) }
	st, runErr := sim.Run(ctx, emit, label)
	// Send what was generated even when interrupted (--live ends that way).
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := pub.Close(closeCtx); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil && !(o.live && errors.Is(runErr, context.Canceled)) {
		return runErr
	}
	fmt.Fprintf(stderr, "simulated %d tenants, %d people: %d events from %s to %s, %d episodes\n",
		st.Tenants, st.People, st.Events, st.From.UTC().Format(time.RFC3339), st.To.UTC().Format(time.RFC3339), st.Labels)
	if httpSink != nil {
		fmt.Fprintf(stderr, "ingest accepted %d events, rejected %d\n", httpSink.Accepted(), httpSink.Rejected())
	}
	if len(st.Skipped) > 0 {
		fmt.Fprintf(stderr, "no subject fitted these kinds, so they have no episode: %s\n", strings.Join(st.Skipped, ", "))
	}
	return nil
}

// readIngestToken reads the bearer token from a file, else the environment.
func readIngestToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return os.Getenv(ingestTokenEnv), nil
}
