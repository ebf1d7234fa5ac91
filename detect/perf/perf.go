// Package perf measures the detector the way issue 3's targets are set:
// throughput of one shard on one goroutine over generated traffic (with
// and without decoding), and the memory a million active accounts take.
// The Go benchmarks in this package and `trailwatch bench` both run it, so
// a figure in docs/PERFORMANCE.md can be checked on any machine with the
// binary alone.
package perf

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/detect/internal/traffic"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Stream is generated traffic (detect/internal/traffic: 20 tenants in
// eight time zones, 1% of events out of order, attack episodes for every
// detection mixed in), decoded and as canonical JSON. It is cycled for
// long runs, event times shifted forward by the stream's span each cycle
// so that time keeps moving.
type Stream struct {
	lines [][]byte
	evs   []event.Event
	span  time.Duration
}

// NewStream generates n events over the given number of accounts.
func NewStream(n, accounts int) (*Stream, error) {
	if n < 2 || accounts < 1 {
		return nil, fmt.Errorf("a stream needs at least 2 events and 1 account (got %d and %d)", n, accounts)
	}
	g := traffic.New(traffic.Config{Seed: 42, Accounts: accounts})
	s := &Stream{evs: make([]event.Event, n), lines: make([][]byte, n)}
	for i := range s.evs {
		g.Next(&s.evs[i])
		b, err := detect.EncodeEvent(&s.evs[i])
		if err != nil {
			return nil, fmt.Errorf("encoding generated event %d: %w", i, err)
		}
		s.lines[i] = b
	}
	s.span = s.evs[n-1].Timestamp.Sub(s.evs[0].Timestamp) + time.Second
	return s, nil
}

// Len is the number of events in one cycle of the stream.
func (s *Stream) Len() int { return len(s.evs) }

// Bytes is the size of one cycle's events as JSON.
func (s *Stream) Bytes() int {
	n := 0
	for _, l := range s.lines {
		n += len(l)
	}
	return n
}

// Run feeds a shard from a stream: decoded from JSON (Decode) or copied
// as events (the engine alone).
type Run struct {
	shard  *detect.Shard
	s      *Stream
	decode bool
	i      int
	cycle  time.Duration
	ev     event.Event
	out    []detect.Output
	alerts int
}

// NewRun starts a run of a new shard of e over s.
func NewRun(e *detect.Engine, s *Stream, decode bool) *Run {
	return &Run{shard: e.NewShard(), s: s, decode: decode, out: make([]detect.Output, 0, 64)}
}

// WarmCycles is how many cycles of a stream to run before measuring: the
// state grows for the first nine (a 15-minute window fills over nine
// 100-second cycles of the default stream), so what follows is a detector
// in steady state.
const WarmCycles = 10

// Next processes the stream's next event.
func (r *Run) Next() error {
	x := &r.ev
	if r.decode {
		// Decoded as the detector decodes a Kafka message (runner's
		// handleEvent): strings borrowed from the bytes, no copy.
		if err := detect.DecodeEventIntoNoCopy(x, r.s.lines[r.i]); err != nil {
			return fmt.Errorf("decoding generated event %d: %w", r.i, err)
		}
	} else {
		*x = r.s.evs[r.i]
	}
	if r.cycle > 0 {
		x.Timestamp = x.Timestamp.Add(r.cycle)
	}
	r.out = r.shard.Process(x, r.out[:0])
	r.alerts += len(r.out)
	if r.i++; r.i == len(r.s.evs) {
		r.i, r.cycle = 0, r.cycle+r.s.span
	}
	return nil
}

// Steps processes n events.
func (r *Run) Steps(n int) error {
	for range n {
		if err := r.Next(); err != nil {
			return err
		}
	}
	return nil
}

// Alerts is how many outputs the run produced so far.
func (r *Run) Alerts() int { return r.alerts }

// Stats is the shard's state figures.
func (r *Run) Stats() detect.Stats { return r.shard.Stats() }

// Throughput is what a measured stretch of a run did.
type Throughput struct {
	Events         int
	Wall, CPU      time.Duration
	Allocs, Bytes  uint64 // heap allocations and bytes allocated
	Keys           int
	StateBytes     int64
	AlertsProduced int
}

// EventsPerSecond is events over wall time.
func (t Throughput) EventsPerSecond() float64 { return float64(t.Events) / t.Wall.Seconds() }

// CPUPerEvent is the process's CPU time per event (the collector's work
// on other cores included).
func (t Throughput) CPUPerEvent() time.Duration { return t.CPU / time.Duration(t.Events) }

// Measure processes n events after a collection and reports them.
func (r *Run) Measure(n int) (Throughput, error) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	alerts0 := r.alerts
	cpu0, start := CPUTime(), time.Now()
	if err := r.Steps(n); err != nil {
		return Throughput{}, err
	}
	wall, cpu := time.Since(start), CPUTime()-cpu0
	runtime.ReadMemStats(&m1)
	st := r.shard.Stats()
	return Throughput{
		Events: n, Wall: wall, CPU: cpu,
		Allocs: m1.Mallocs - m0.Mallocs, Bytes: m1.TotalAlloc - m0.TotalAlloc,
		Keys: st.Keys, StateBytes: st.StateBytes, AlertsProduced: r.alerts - alerts0,
	}, nil
}

// Memory is what making accounts active cost.
type Memory struct {
	Accounts  int
	Events    int
	HeapBytes int64 // live heap after a collection, above what it was before
	PeakRSS   int64 // the process's peak resident set so far
	Keys      int
	CPU       time.Duration
}

// ActiveAccounts makes each of n accounts log in, view a record and edit
// one (all within every window of the pack) on a new shard of e, and
// reports the live heap that state takes. The shard is kept alive until
// the figures are read.
func ActiveAccounts(e *detect.Engine, n int) Memory {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := CPUTime()
	sh := ActiveShard(e, n)
	cpu := CPUTime() - cpu0
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := sh.Stats()
	runtime.KeepAlive(sh)
	return Memory{
		Accounts: n, Events: 3 * n, HeapBytes: int64(after.HeapAlloc) - int64(before.HeapAlloc),
		PeakRSS: PeakRSS(), Keys: st.Keys, CPU: cpu,
	}
}

// ActiveShard is a shard in which each of n accounts logged in, viewed a
// record and edited one, all within every window of the pack.
func ActiveShard(e *detect.Engine, n int) *detect.Shard {
	g := traffic.New(traffic.Config{Seed: 9, Accounts: n, Rate: 20_000, AttackRate: -1, OutOfOrder: -1})
	sh := e.NewShard()
	out := make([]detect.Output, 0, 64)
	var x event.Event
	for i := range n {
		for _, kind := range []traffic.Kind{traffic.Login, traffic.View, traffic.Update} {
			g.Activity(&x, i, kind)
			out = sh.Process(&x, out[:0])
		}
	}
	return sh
}

// CPUTime is the process's user and system CPU time so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSS is the process's peak resident set size, in bytes.
func PeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
