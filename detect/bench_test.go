package detect

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/detect/internal/traffic"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// benchStream is generated traffic: 20 tenants, 100,000 accounts, 1% out of
// order, attack episodes mixed in. It is cycled for long runs, shifting
// event times forward by the stream's span each cycle so time keeps moving.
type benchStream struct {
	lines [][]byte
	evs   []event.Event
	span  time.Duration
}

func newBenchStream(tb testing.TB, n, accounts int, encode bool) *benchStream {
	tb.Helper()
	g := traffic.New(traffic.Config{Seed: 42, Accounts: accounts})
	s := &benchStream{evs: make([]event.Event, n)}
	for i := range s.evs {
		g.Next(&s.evs[i])
		if encode {
			b, err := EncodeEvent(&s.evs[i])
			if err != nil {
				tb.Fatal(err)
			}
			s.lines = append(s.lines, b)
		}
	}
	s.span = s.evs[n-1].Timestamp.Sub(s.evs[0].Timestamp) + time.Second
	return s
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDetect decodes and evaluates generated traffic through the
// shipped pack on one shard (one goroutine): decode + route + filters +
// state. It reports events/s (wall clock), CPU ns per event (robust to a
// busy machine), allocations per event, and state bytes per active key.
func BenchmarkDetect(b *testing.B) {
	benchDetect(b, true)
}

// BenchmarkEvaluate is BenchmarkDetect without decoding: the engine alone.
func BenchmarkEvaluate(b *testing.B) {
	benchDetect(b, false)
}

// benchWarmCycles is how many cycles of the stream run before timing: the
// state grows for the first nine (a 15-minute window fills over nine
// 100-second cycles), so the figures are those of a detector in steady
// state. TW_BENCH_WARMUP overrides it (0 for quick profiles).
const benchWarmCycles = 10

func benchDetect(b *testing.B, decode bool) {
	e := packEngine(b, nil)
	s := newBenchStream(b, 200_000, 100_000, decode)
	sh := e.NewShard()
	out := make([]Output, 0, 64)
	var scratch event.Event
	i, cycle := 0, time.Duration(0)
	alerts := 0
	next := func() {
		x := &scratch
		if decode {
			if err := DecodeEventInto(x, s.lines[i]); err != nil {
				b.Fatal(err)
			}
		} else {
			scratch = s.evs[i]
		}
		if cycle > 0 {
			x.Timestamp = x.Timestamp.Add(cycle)
		}
		out = sh.Process(x, out[:0])
		alerts += len(out)
		i++
		if i == len(s.evs) {
			i, cycle = 0, cycle+s.span
		}
	}
	warm := benchWarmCycles
	if n, err := strconv.Atoi(os.Getenv("TW_BENCH_WARMUP")); err == nil && n >= 0 {
		warm = n
	}
	for range warm * len(s.evs) {
		next()
	}
	b.ReportAllocs()
	runtime.GC()
	cpu0 := cpuTime()
	for b.Loop() {
		next()
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	st := sh.Stats()
	if st.Keys > 0 {
		b.ReportMetric(float64(st.StateBytes)/float64(st.Keys), "state-B/key")
	}
	b.ReportMetric(float64(st.Keys), "keys")
}

// BenchmarkMemoryMillionAccounts makes 1,000,000 accounts active under the
// pack (each logs in, views a record and edits one, within the windows) and
// reports the Go heap after a collection, its size per account, and the
// process's peak resident set. One iteration is the whole load.
func BenchmarkMemoryMillionAccounts(b *testing.B) {
	accounts := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("TW_BENCH_ACCOUNTS")); err == nil && n > 0 {
		accounts = n // quicker iterations while profiling
	}
	e := packEngine(b, nil)
	for b.Loop() {
		g := traffic.New(traffic.Config{Seed: 9, Accounts: accounts, Rate: 20_000, AttackRate: -1, OutOfOrder: -1})
		sh := e.NewShard()
		out := make([]Output, 0, 64)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		var x event.Event
		for i := range accounts {
			for _, kind := range []traffic.Kind{traffic.Login, traffic.View, traffic.Update} {
				g.Activity(&x, i, kind)
				out = sh.Process(&x, out[:0])
			}
		}
		cpu := cpuTime() - cpu0
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		st := sh.Stats()
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(heap/(1<<20), "heap-MiB")
		b.ReportMetric(heap/float64(accounts), "heap-B/account")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-rss-MiB")
		b.ReportMetric(float64(st.Keys), "keys")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(3*accounts), "cpu-ns/event")
		if path := os.Getenv("TW_BENCH_HEAPPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		runtime.KeepAlive(sh)
	}
}

// peakRSS is the process's peak resident set size, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
