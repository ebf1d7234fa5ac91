package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"github.com/spf13/cobra"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/detect/perf"
	"github.com/trailwatch/trailwatch/internal/chserver"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/embedded"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/sink"
)

// The targets of issues 3 and 6, printed beside what was measured.
const (
	targetDetectEventsPerSec = 500_000
	targetMemoryBytes        = 2 << 30
	targetMemoryAccounts     = 1_000_000
	targetSinkRowsPerSec     = 300_000
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the detector and the sink on this machine, beside their targets",
		Long: `Bench runs the same measurements as the Go benchmarks (detect/perf, sink;
docs/PERFORMANCE.md) from the binary alone: the detector on generated
traffic through a rule pack, one shard on one goroutine; the sink end to end
from the embedded broker into the embedded ClickHouse engine, beside the
engine's own floor in the same process. Wall-clock figures depend on what
else the machine runs; CPU time per event or row is steadier.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBenchDetectCmd(), newBenchMemoryCmd(), newBenchSinkCmd())
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

type benchSinkOptions struct {
	events, batch, floorBatches int
	dir                         string
}

func newBenchSinkCmd() *cobra.Command {
	var o benchSinkOptions
	cmd := &cobra.Command{
		Use:   "sink",
		Short: "Rows per second from Kafka into ClickHouse, beside the engine's own floor",
		Long: `Sink starts the embedded broker and the embedded ClickHouse engine in a
scratch directory (removed afterwards; libchdb is needed, as for trailwatch
run), puts --events benchmark events (about 600 bytes each) on crm.activity,
and measures a sink storing them, from its first fetch until the last
offset is committed: rows/s, CPU per row (the whole process: broker, sink,
HTTP server and engine) and where the sink's time went. Then, in another
database, the engine's floor: the same rows inserted from the engine's own
memory (--floor-batches statements of --batch rows) and merged, with no
Kafka, decoding, client or HTTP, which no sink can beat. Issue 6's target
is 300,000 rows/s end to end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchSink(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.events, "events", 200_000, "events the sink stores")
	f.IntVar(&o.batch, "batch", sink.DefaultConfig().BatchMessages, "rows per insert (the sink's sink.batch_messages, and the floor's statements)")
	f.IntVar(&o.floorBatches, "floor-batches", 100, "insert statements of the engine floor; 0 skips it")
	f.StringVar(&o.dir, "dir", "", "scratch directory (default: a new one under the system's temporary directory)")
	return cmd
}

func runBenchSink(ctx context.Context, o benchSinkOptions, w io.Writer) error {
	switch {
	case o.events < 1:
		return fmt.Errorf("--events: %d, need at least 1", o.events)
	case o.batch < 1:
		return fmt.Errorf("--batch: %d, need at least 1", o.batch)
	case o.floorBatches < 0:
		return fmt.Errorf("--floor-batches: %d, must not be negative", o.floorBatches)
	}
	dir, err := os.MkdirTemp(o.dir, "trailwatch-bench-sink-")
	if err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	defer os.RemoveAll(dir)
	log := zerolog.Nop()

	kcfg := kafka.DefaultConfig()
	kcfg.Consumer.MaxBytes = 8 << 20
	kcfg.Consumer.QueueCapacity = 10_000
	kafkaCfg := embedded.DefaultKafkaConfig()
	kafkaCfg.Listen = "127.0.0.1:0"
	k, err := embedded.StartKafka(ctx, filepath.Join(dir, "kafka"), kafkaCfg, kcfg.Topics, log)
	if err != nil {
		return err
	}
	defer k.Close()
	kcfg.Brokers = k.Brokers()
	chCfg := chserver.DefaultConfig()
	chCfg.Listen = "127.0.0.1:0"
	ch, err := embedded.StartClickHouse(ctx, filepath.Join(dir, "clickhouse"), chCfg, log, nil)
	if err != nil {
		return err
	}
	defer ch.Close()
	// A migrated database of its own for each measurement (Migrate
	// creates it).
	open := func(database string) (*chstore.Store, error) {
		c := chstore.DefaultConfig()
		c.URL, c.Database = ch.URL(), database
		st, err := chstore.Open(ctx, c, log)
		if err != nil {
			return nil, err
		}
		if _, err := sink.Migrate(ctx, st, sink.DefaultStorageConfig(), log); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}

	p, err := kafka.NewProducer(kcfg, log, nil)
	if err != nil {
		return err
	}
	size, err := sink.ProduceBenchEvents(ctx, p, kcfg.Topics.Activity.Name, o.events)
	p.Close()
	if err != nil {
		return err
	}
	st, err := open("bench_sink")
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := sink.DefaultConfig()
	cfg.BatchMessages = o.batch
	m, err := sink.MeasureFromKafka(ctx, kcfg, st, cfg, "trailwatch-bench-sink", dir, o.events)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sink, end to end: %d events (%.0f B each as JSON) in %s: %.0f rows/s, %.0f cpu-ns/row\n",
		m.Rows, float64(size)/float64(m.Rows), m.Wall.Round(time.Millisecond), m.RowsPerSecond(), float64(m.CPUPerRow().Nanoseconds()))
	fmt.Fprint(w, "  per row:")
	for _, ph := range m.Phases {
		fmt.Fprintf(w, " %s %.0f ns", ph.Name, float64(ph.Time.Nanoseconds())/float64(m.Rows))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "target (issue 6): %d rows/s: %s (%.2f× the target)\n",
		targetSinkRowsPerSec, metOrNot(m.RowsPerSecond() >= targetSinkRowsPerSec), m.RowsPerSecond()/targetSinkRowsPerSec)
	if o.floorBatches == 0 {
		return nil
	}
	fst, err := open("bench_floor")
	if err != nil {
		return err
	}
	defer fst.Close()
	f, err := sink.MeasureEngineFloor(ctx, fst, o.batch, o.floorBatches)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "engine floor: %d rows inserted from the engine's memory and merged in %s: %.0f rows/s, %.0f cpu-ns/row\n",
		f.Rows, f.Wall.Round(time.Millisecond), f.RowsPerSecond(), float64(f.CPUPerRow().Nanoseconds()))
	fmt.Fprintf(w, "sink / engine floor: %.2f of the rows/s, %.2f× the CPU per row\n",
		m.RowsPerSecond()/f.RowsPerSecond(), float64(m.CPUPerRow())/float64(f.CPUPerRow()))
	return nil
}
