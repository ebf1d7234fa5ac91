package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/detect/perf"
)

// The targets of issue 3, printed beside what was measured.
const (
	targetDetectEventsPerSec = 500_000
	targetMemoryBytes        = 2 << 30
	targetMemoryAccounts     = 1_000_000
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the detector on this machine: throughput and memory, beside their targets",
		Long: `Bench runs the same measurements as the Go benchmarks of detect/perf
(docs/PERFORMANCE.md), from the binary alone: on generated traffic through a
rule pack, one shard on one goroutine. Wall-clock figures depend on what
else the machine runs; CPU time per event is steadier.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBenchDetectCmd(), newBenchMemoryCmd())
	return cmd
}

type benchDetectOptions struct {
	rules, config             string
	events, accounts, measure int
	warm                      int
}

func newBenchDetectCmd() *cobra.Command {
	var o benchDetectOptions
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Events per second through the rules, with and without decoding",
		Long: `Detect generates --events events over --accounts accounts (20 tenants,
1% out of order, attack episodes mixed in), runs --warm cycles of them
through a new shard so its state is in steady state, then measures
--measure events twice: decoded from canonical JSON and evaluated (the
issue's figure), and evaluated alone (the engine). Issue 3's target is
500,000 events/s on one core, decoding included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchDetect(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.rules, "rules", "rules", "rule directory")
	f.StringVar(&o.config, "config", "", "detector configuration file (as trailwatch replay --config); empty: the defaults")
	f.IntVar(&o.events, "events", 200_000, "events in one cycle of the generated stream")
	f.IntVar(&o.accounts, "accounts", 100_000, "accounts the stream is spread over")
	f.IntVar(&o.measure, "measure", 1_000_000, "events measured, after the warm-up")
	f.IntVar(&o.warm, "warm", perf.WarmCycles, "cycles of the stream run before measuring")
	return cmd
}

func benchEngine(rules, config string) (*detect.Engine, error) {
	rs, err := detect.Load(rules)
	if err != nil {
		return nil, fmt.Errorf("loading rules:\n%w", err)
	}
	cfg := detect.DefaultConfig()
	if config != "" {
		if cfg, err = detect.LoadConfig(config); err != nil {
			return nil, err
		}
	}
	return detect.NewEngine(rs, cfg)
}

func runBenchDetect(o benchDetectOptions, w io.Writer) error {
	switch {
	case o.events < 2:
		return fmt.Errorf("--events: %d, need at least 2", o.events)
	case o.accounts < 1:
		return fmt.Errorf("--accounts: %d, need at least 1", o.accounts)
	case o.measure < 1:
		return fmt.Errorf("--measure: %d, need at least 1", o.measure)
	case o.warm < 0:
		return fmt.Errorf("--warm: %d, must not be negative", o.warm)
	}
	e, err := benchEngine(o.rules, o.config)
	if err != nil {
		return err
	}
	s, err := perf.NewStream(o.events, o.accounts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stream: %d events over %d accounts (%.0f B per event as JSON); %d rules; warm-up %d cycles, then %d events measured\n",
		s.Len(), o.accounts, float64(s.Bytes())/float64(s.Len()), len(e.Rules()), o.warm, o.measure)
	for _, decode := range []bool{true, false} {
		r := perf.NewRun(e, s, decode)
		if err := r.Steps(o.warm * s.Len()); err != nil {
			return err
		}
		th, err := r.Measure(o.measure)
		if err != nil {
			return err
		}
		what := "decode + evaluate"
		if !decode {
			what = "evaluate        "
		}
		fmt.Fprintf(w, "%s  %9.0f events/s  %6.0f cpu-ns/event  %5.2f allocs/event  %6.0f B/event  %d keys, %.0f B of state per key  %d alerts\n",
			what, th.EventsPerSecond(), float64(th.CPUPerEvent().Nanoseconds()), float64(th.Allocs)/float64(th.Events),
			float64(th.Bytes)/float64(th.Events), th.Keys, float64(th.StateBytes)/float64(max(th.Keys, 1)), th.AlertsProduced)
		if decode {
			fmt.Fprintf(w, "target (issue 3): %d events/s decoding included: %s (%.2f× the target)\n",
				targetDetectEventsPerSec, metOrNot(th.EventsPerSecond() >= targetDetectEventsPerSec), th.EventsPerSecond()/targetDetectEventsPerSec)
		}
	}
	return nil
}

func newBenchMemoryCmd() *cobra.Command {
	var rules, config string
	var accounts int
	cmd := &cobra.Command{
		Use:   "memory",
		Short: "Memory of active accounts under the rules",
		Long: `Memory makes --accounts accounts active (each logs in, views a record and
edits one, within every window) on one shard and reports the live heap
their state takes after a collection and the process's peak resident set.
Issue 3's target is 1,000,000 accounts within 2 GiB resident. GOMEMLIMIT,
when set, is honoured as it is by trailwatch detect.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if accounts < 1 {
				return fmt.Errorf("--accounts: %d, need at least 1", accounts)
			}
			e, err := benchEngine(rules, config)
			if err != nil {
				return err
			}
			m := perf.ActiveAccounts(e, accounts)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d accounts, %d events, %d keys: live heap %.0f MiB (%.0f B per account), peak resident %.0f MiB, %.1f µs CPU per event\n",
				m.Accounts, m.Events, m.Keys, float64(m.HeapBytes)/(1<<20), float64(m.HeapBytes)/float64(m.Accounts),
				float64(m.PeakRSS)/(1<<20), float64(m.CPU.Nanoseconds())/float64(m.Events)/1000)
			if limit := debug.SetMemoryLimit(-1); limit < 1<<62 {
				fmt.Fprintf(w, "soft memory limit: %.0f MiB\n", float64(limit)/(1<<20))
			}
			if accounts == targetMemoryAccounts {
				fmt.Fprintf(w, "target (issue 3): %d accounts within %.0f MiB resident: %s\n",
					targetMemoryAccounts, float64(targetMemoryBytes)/(1<<20), metOrNot(m.PeakRSS <= targetMemoryBytes))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rules, "rules", "rules", "rule directory")
	f.StringVar(&config, "config", "", "detector configuration file; empty: the defaults")
	f.IntVar(&accounts, "accounts", targetMemoryAccounts, "accounts made active")
	return cmd
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
