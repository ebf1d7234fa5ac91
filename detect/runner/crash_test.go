package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// TestRecovery is issue 3's crash test. One generated stream is detected
// three ways, each writing to its own alerts topic:
//
//   - uninterrupted: the reference;
//   - crashed: killed at random points (a crash in-process: no flush, no
//     commit, no last snapshot; and a SIGKILL of a child process running
//     the detector), restarted each time;
//   - rebalanced: two detectors in one group, the second joining and the
//     first leaving mid-stream.
//
// Deduplicated by id, each alerts topic holds exactly the reference's
// alerts (and actions), and no id appears with different contents.
func TestRecovery(t *testing.T) {
	env := testenv.Kafka(t)
	// On a busy machine (or under the race detector) the embedded broker
	// can answer heartbeats late; sessions of testenv's 3 s then expire
	// and the group rebalances over and over. Longer sessions cost only
	// the wait after the SIGKILL.
	env.Config.Consumer.SessionTimeout = 10 * time.Second
	env.Config.Consumer.RebalanceTimeout = 30 * time.Second
	env.Config.Consumer.ShutdownTimeout = 10 * time.Second
	n := 60_000
	if raceEnabled {
		n = 15_000
	}
	events := genStream(t, 7, n)
	produce(t, env.Config, env.Config.Topics.Activity.Name, events)

	refK := withTopics(env.Config, "ref")
	cfg := testConfig()
	cfg.Group = "ref"
	t0 := time.Now()
	ref := start(t, cfg, refK)
	waitCaughtUp(t, refK, cfg.Group)
	t.Logf("reference run: %s", time.Since(t0))
	if err := ref.stop(false); err != nil {
		t.Fatal(err)
	}
	wantAlerts, _ := outputs(t, env, refK.Topics.Alerts.Name)
	wantActions, _ := outputs(t, env, refK.Topics.Actions.Name)
	if len(wantAlerts) < n/1500 {
		t.Fatalf("the reference run raised %d alerts; the test needs more", len(wantAlerts))
	}
	t.Logf("reference: %d alerts %v, %d actions", len(wantAlerts), rulesOf(wantAlerts), len(wantActions))

	check := func(t *testing.T, k kafka.Config) {
		t.Helper()
		alerts, n := outputs(t, env, k.Topics.Alerts.Name)
		actions, _ := outputs(t, env, k.Topics.Actions.Name)
		sameIDs(t, "alerts", wantAlerts, alerts)
		sameIDs(t, "actions", wantActions, actions)
		for id, a := range alerts {
			if w, ok := wantAlerts[id]; ok && w != a {
				t.Errorf("alert %s differs from the reference:\n%s\n%s", id, w, a)
			}
		}
		t.Logf("%d alert messages, %d distinct", n, len(alerts))
	}

	for _, snapshots := range []bool{true, false} {
		name := "crash/snapshots"
		if !snapshots {
			name = "crash/replay"
		}
		t.Run(name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, seed))
			k := withTopics(env.Config, strings.ReplaceAll(name, "/", "-"))
			cfg := testConfig()
			cfg.Group = strings.ReplaceAll(name, "/", "-")
			if !snapshots {
				cfg.SnapshotInterval = 0
			}
			// The stream is produced while the detector runs, on a topic of
			// its own, up to a little past each crash point: so each kill
			// lands near its point while events are still arriving, rather
			// than wherever a detector racing through a topic produced in
			// advance happens to be when the test looks.
			k.Topics.Activity.Name += "." + cfg.Group
			if err := kafka.EnsureTopics(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			feeder := newFeeder(t, k, events)
			done := func() float64 {
				c, _, err := offsets(t, k, cfg.Group, k.Topics.Activity.Name)
				if err != nil {
					t.Logf("progress unknown: %v", err)
					return -1
				}
				var sum int64
				for _, o := range c {
					sum += max(o, 0)
				}
				return float64(sum) / float64(len(events))
			}
			recovered := map[string]float64{}
			count := func(run *started) {
				for _, src := range []string{"snapshot", "replay", "fresh", "cache", "migrated"} {
					recovered[src] += metricValue(t, run.reg, "trailwatch_detect_recoveries_total", map[string]string{"source": src})
				}
			}
			points := []float64{0.05 + 0.2*rng.Float64(), 0.3 + 0.2*rng.Float64(), 0.55 + 0.2*rng.Float64()}
			// With snapshots, each run writes one before it is killed (every
			// second, testConfig): else a quick run leaves none and the next
			// recovers by replay, which this subtest is not about.
			stateEnd := func() int64 {
				_, e, err := offsets(t, k, cfg.Group, k.Topics.DetectState.Name)
				if err != nil {
					t.Logf("snapshots unknown: %v", err)
					return -1
				}
				var sum int64
				for _, o := range e {
					sum += o
				}
				return sum
			}
			for i, at := range points {
				before := stateEnd()
				waitProgress := func() {
					feeder.feed(at + 0.04)
					eventually(t, fmt.Sprintf("progress %.0f%%", 100*at), func() bool { return done() >= at })
					if snapshots {
						eventually(t, "a snapshot of this run", func() bool { return stateEnd() > before })
					}
					time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
				}
				if i == 1 {
					child := startChild(t, cfg, k)
					waitProgress()
					child.kill()
					t.Logf("SIGKILLed the detector process at %.0f%% (aimed at %.0f%%)", 100*done(), 100*at)
					feeder.wait()
					continue
				}
				run := start(t, cfg, k)
				waitProgress()
				if err := run.stop(true); err != nil {
					t.Fatal(err)
				}
				count(run)
				t.Logf("crashed the detector at %.0f%% (aimed at %.0f%%)", 100*done(), 100*at)
				feeder.wait()
			}
			feeder.feed(1)
			feeder.wait()
			run := start(t, cfg, k)
			waitCaughtUp(t, k, cfg.Group)
			if err := run.stop(false); err != nil {
				t.Fatal(err)
			}
			count(run)
			t.Logf("recoveries in this process: %v", recovered)
			if want := map[bool]string{true: "snapshot", false: "replay"}[snapshots]; recovered[want] == 0 {
				t.Errorf("no partition recovered by %s", want)
			}
			check(t, k)
		})
	}

	// The stream is produced in three parts on a topic of its own, so the
	// second detector joins, and the first leaves, while events remain.
	t.Run("rebalance", func(t *testing.T) {
		k := withTopics(env.Config, "rebalance")
		k.Topics.Activity.Name += ".rebalance"
		if err := kafka.EnsureTopics(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		cfg := testConfig()
		cfg.Group = "rebalance"
		third := len(events) / 3
		produce(t, k, k.Topics.Activity.Name, events[:third])
		a := start(t, cfg, k)
		eventually(t, "the first detector at work", func() bool { return progress(t, k, cfg.Group) >= 0.5 })
		b := start(t, cfg, k)
		eventually(t, "the second detector to get partitions", func() bool {
			return metricValue(t, b.reg, "trailwatch_detect_recoveries_total", nil) > 0
		})
		produce(t, k, k.Topics.Activity.Name, events[third:2*third])
		eventually(t, "progress", func() bool { return progress(t, k, cfg.Group) >= 0.8 })
		if err := a.stop(false); err != nil {
			t.Fatal(err)
		}
		produce(t, k, k.Topics.Activity.Name, events[2*third:])
		waitCaughtUp(t, k, cfg.Group)
		if err := b.stop(false); err != nil {
			t.Fatal(err)
		}
		// The first detector kept the partitions it got back in memory;
		// the second restored those the first left from its last snapshots.
		if n := metricValue(t, a.reg, "trailwatch_detect_recoveries_total", map[string]string{"source": "cache"}); n == 0 {
			t.Error("the first detector recovered no partition from memory after the rebalance")
		}
		if n := metricValue(t, b.reg, "trailwatch_detect_recoveries_total", map[string]string{"source": "snapshot"}); n == 0 {
			t.Error("the second detector restored no partition from a snapshot after the first left")
		}
		check(t, k)
	})
}

// child is a detector running in a child process.
type child struct {
	t   testing.TB
	cmd *exec.Cmd
}

const childEnv = "TRAILWATCH_DETECT_CHILD"

// startChild runs the detector in a child process (this test binary, in
// TestDetectorChild) and waits until it has joined its group.
func startChild(t testing.TB, cfg Config, kcfg kafka.Config) *child {
	t.Helper()
	spec, err := json.Marshal(childSpec{Config: cfg, Kafka: kcfg})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDetectorChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd}
	t.Cleanup(c.kill)
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "running") {
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return c
}

// kill sends SIGKILL and reaps the process.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

type childSpec struct {
	Config Config
	Kafka  kafka.Config
}

// TestDetectorChild is the detector process TestRecovery kills.
func TestDetectorChild(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("runs only as TestRecovery's child process")
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Str("process", "child").Logger()
	r, err := New(spec.Config, spec.Kafka, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		for r.Ready(ctx) != nil {
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println("running")
	}()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// feeder produces a stream to its topic in the background, in small
// chunks, up to the share of it the test allows.
type feeder struct {
	t      testing.TB
	p      *kafka.Producer
	topic  string
	events []kafka.Message
	next   int
	done   chan error
}

func newFeeder(t testing.TB, k kafka.Config, events []kafka.Message) *feeder {
	p, err := kafka.NewProducer(k, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &feeder{t: t, p: p, topic: k.Topics.Activity.Name, events: events}
}

// feed starts producing the stream up to share (0 to 1) of it.
func (f *feeder) feed(share float64) {
	end := min(int(share*float64(len(f.events))), len(f.events))
	from := f.next
	f.next = max(end, from)
	f.done = make(chan error, 1)
	go func(done chan<- error) {
		const chunk = 200
		for i := from; i < end; i += chunk {
			batch := slices.Clone(f.events[i:min(i+chunk, end)])
			for j := range batch {
				batch[j].Topic = f.topic
			}
			if err := f.p.Produce(context.Background(), batch...); err != nil {
				done <- fmt.Errorf("producing: %w", err)
				return
			}
		}
		done <- nil
	}(f.done)
}

// wait waits until what feed started is produced.
func (f *feeder) wait() {
	f.t.Helper()
	if err := <-f.done; err != nil {
		f.t.Fatal(err)
	}
}
