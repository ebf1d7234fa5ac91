package perf

import (
	"bytes"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	"github.com/trailwatch/trailwatch/detect"
)

// packEngine is the shipped rule pack on the default configuration.
func packEngine(tb testing.TB) *detect.Engine {
	tb.Helper()
	rs, err := detect.Load("../../rules")
	if err != nil {
		tb.Fatalf("loading the pack: %v", err)
	}
	e, err := detect.NewEngine(rs, detect.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// BenchmarkDetect decodes and evaluates generated traffic (200,000 events
// over 100,000 accounts, cycled) through the shipped pack on one shard (one
// goroutine): decode + route + filters + state. It reports events/s (wall
// clock), CPU ns per event (robust to a busy machine), allocations per
// event, and state bytes per active key.
func BenchmarkDetect(b *testing.B) { benchDetect(b, true) }

// BenchmarkEvaluate is BenchmarkDetect without decoding: the engine alone.
func BenchmarkEvaluate(b *testing.B) { benchDetect(b, false) }

func benchDetect(b *testing.B, decode bool) {
	s, err := NewStream(200_000, 100_000)
	if err != nil {
		b.Fatal(err)
	}
	r := NewRun(packEngine(b), s, decode)
	warm := envInt(b, "TW_BENCH_WARMUP", WarmCycles, 0) // 0 for quick profiles
	if err := r.Steps(warm * s.Len()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.GC()
	cpu0 := CPUTime()
	for b.Loop() {
		if err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := CPUTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	st := r.Stats()
	if st.Keys > 0 {
		b.ReportMetric(float64(st.StateBytes)/float64(st.Keys), "state-B/key")
	}
	b.ReportMetric(float64(st.Keys), "keys")
}

// BenchmarkMemoryMillionAccounts makes 1,000,000 accounts active under the
// pack (ActiveAccounts) and reports the Go heap after a collection, its
// size per account, and the process's peak resident set. One iteration is
// the whole load. TW_BENCH_ACCOUNTS runs it smaller, TW_BENCH_HEAPPROFILE
// writes a heap profile with the state live.
func BenchmarkMemoryMillionAccounts(b *testing.B) {
	accounts := envInt(b, "TW_BENCH_ACCOUNTS", 1_000_000, 1)
	e := packEngine(b)
	for b.Loop() {
		m := ActiveAccounts(e, accounts)
		b.ReportMetric(float64(m.HeapBytes)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(m.HeapBytes)/float64(accounts), "heap-B/account")
		b.ReportMetric(float64(m.PeakRSS)/(1<<20), "peak-rss-MiB")
		b.ReportMetric(float64(m.Keys), "keys")
		b.ReportMetric(float64(m.CPU.Nanoseconds())/float64(m.Events), "cpu-ns/event")
		if path := os.Getenv("TW_BENCH_HEAPPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}
}

// BenchmarkStats measures what a stats tick costs the partition it runs
// on: the whole walk over the state (Stats) and the runner's sampled
// one (StatsSampled, 1024 groups per rule), over the state of
// TW_BENCH_ACCOUNTS active accounts (100,000 by default; as
// BenchmarkMemoryMillionAccounts builds it). It reports the estimate's
// ratio to the walk's figure.
func BenchmarkStats(b *testing.B) {
	accounts := envInt(b, "TW_BENCH_ACCOUNTS", 100_000, 1)
	sh := ActiveShard(packEngine(b), accounts)
	whole := sh.Stats()
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			sh.Stats()
		}
		b.ReportMetric(float64(whole.Keys), "keys")
	})
	b.Run("sampled", func(b *testing.B) {
		var st detect.Stats
		for b.Loop() {
			st = sh.StatsSampled(1024)
		}
		b.ReportMetric(float64(st.StateBytes)/float64(whole.StateBytes), "of-walk")
	})
}

// BenchmarkSnapshot measures encoding a shard's snapshot, which the
// runner does on the partition's goroutine every snapshot_interval (the
// write to Kafka runs beside it), over the state of TW_BENCH_ACCOUNTS
// active accounts (100,000 by default). It reports the snapshot's size.
func BenchmarkSnapshot(b *testing.B) {
	accounts := envInt(b, "TW_BENCH_ACCOUNTS", 100_000, 1)
	sh := ActiveShard(packEngine(b), accounts)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := sh.Snapshot(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/(1<<20), "MiB")
	b.ReportMetric(float64(buf.Len())/float64(accounts), "B/account")
}

// envInt reads a benchmark's knob from the environment: def when unset, and
// a malformed value or one below least fails the benchmark, naming it.
func envInt(b *testing.B, name string, def, least int) int {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		b.Fatalf("%s=%q: want a whole number of at least %d", name, v, least)
	}
	return n
}

// TestRunMeasures: a short run over a small stream processes what it is
// asked to, produces alerts (the stream has attacks in it) and reports
// state; the figures the benchmarks and `trailwatch bench` print come
// from here.
func TestRunMeasures(t *testing.T) {
	s, err := NewStream(20_000, 2_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, decode := range []bool{true, false} {
		r := NewRun(packEngine(t), s, decode)
		if err := r.Steps(s.Len()); err != nil {
			t.Fatal(err)
		}
		th, err := r.Measure(2 * s.Len())
		if err != nil {
			t.Fatal(err)
		}
		if th.Events != 2*s.Len() || th.Keys == 0 || th.StateBytes <= 0 || th.Wall <= 0 {
			t.Fatalf("decode %v: %+v", decode, th)
		}
		if r.Alerts() == 0 {
			t.Fatalf("decode %v: no alerts from a stream with attacks in it", decode)
		}
	}
	if _, err := NewStream(1, 1); err == nil {
		t.Fatal("a one-event stream was accepted")
	}
	m := ActiveAccounts(packEngine(t), 1000)
	if m.Events != 3000 || m.Keys < 1000 || m.HeapBytes <= 0 {
		t.Fatalf("1,000 accounts: %+v", m)
	}
}
