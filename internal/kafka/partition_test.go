package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// ledger records, across the members of a group, who owns which partition,
// what each processed, and every commit, to check the consumer's promises.
type ledger struct {
	mu         sync.Mutex
	owner      map[int]string
	violations []string
	assigns    map[string]int // member -> assignments received
	revokes    map[string]int
	lastCommit map[int]int64 // partition -> last successful commit
	commitErrs int
	processed  *seen
}

func newLedger() *ledger {
	return &ledger{owner: map[int]string{}, assigns: map[string]int{}, revokes: map[string]int{}, lastCommit: map[int]int64{}, processed: newSeen()}
}

func (l *ledger) violate(format string, args ...any) {
	l.violations = append(l.violations, fmt.Sprintf(format, args...))
}

// handler is a detector-shaped partition handler for member: it checks the
// assignment against the ledger, processes in order, commits every 10
// messages, and commits its position on revocation.
func (l *ledger) handler(member string) kafka.PartitionHandler {
	return kafka.PartitionHandlerFunc(func(ctx context.Context, c *kafka.Claim) error {
		p := c.Partition()
		l.mu.Lock()
		if o := l.owner[p]; o != "" {
			l.violate("partition %d assigned to %s while %s owns it", p, member, o)
		}
		l.owner[p] = member
		l.assigns[member]++
		if want, ok := l.lastCommit[p]; ok && c.Committed() != want {
			l.violate("partition %d assigned to %s at committed offset %d, last commit was %d", p, member, c.Committed(), want)
		}
		l.mu.Unlock()

		next := c.Start()
		commit := func() {
			err := c.Commit(next)
			l.mu.Lock()
			defer l.mu.Unlock()
			if err != nil {
				l.commitErrs++
				return
			}
			if next > l.lastCommit[p] {
				l.lastCommit[p] = next
			}
		}
		defer func() {
			commit() // after ctx ended: the rebalance waits for it
			l.mu.Lock()
			delete(l.owner, p)
			l.revokes[member]++
			l.mu.Unlock()
		}()
		for n := 0; ; n++ {
			m, err := c.Fetch(ctx)
			if err != nil {
				return err
			}
			if m.Offset != next {
				l.mu.Lock()
				l.violate("partition %d: %s fetched offset %d, expected %d", p, member, m.Offset, next)
				l.mu.Unlock()
			}
			l.processed.add(m)
			next = m.Offset + 1
			if n%10 == 9 {
				commit()
			}
		}
	})
}

func (l *ledger) ownersOf(member string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, o := range l.owner {
		if o == member {
			n++
		}
	}
	return n
}

func newPartitionConsumer(t testing.TB, cfg kafka.Config, group, topic string, h kafka.PartitionHandler) *kafka.PartitionConsumer {
	t.Helper()
	c, err := kafka.NewPartitionConsumer(cfg, kafka.PartitionOptions{Group: group, Topics: []string{topic}}, h, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPartitionConsumerRebalance runs two members of one group through a
// join and a leave: each partition has one owner at a time, every
// assignment starts at the last commit, and nothing is lost.
func TestPartitionConsumerRebalance(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(4))
	cfg := env.Config
	topic := cfg.Topics.Activity.Name
	group := env.Group("detect")
	l := newLedger()

	produce(t, cfg, topic, 0, 400)
	stopA := running(t, newPartitionConsumer(t, cfg, group, topic, l.handler("a")).Run)
	eventually(t, "a to process the first 400", func() bool { return l.processed.distinct() == 400 })
	if n := l.ownersOf("a"); n != 4 {
		t.Fatalf("a alone owns %d partitions, want 4", n)
	}

	stopB := running(t, newPartitionConsumer(t, cfg, group, topic, l.handler("b")).Run)
	eventually(t, "a rebalance sharing the partitions", func() bool {
		return l.ownersOf("a") > 0 && l.ownersOf("b") > 0 && l.ownersOf("a")+l.ownersOf("b") == 4
	})
	produce(t, cfg, topic, 400, 400)
	eventually(t, "both to process the next 400", func() bool { return l.processed.distinct() == 800 })

	if err := stopB(); err != nil {
		t.Fatalf("b: %v", err)
	}
	eventually(t, "a to own every partition again", func() bool { return l.ownersOf("a") == 4 })
	produce(t, cfg, topic, 800, 200)
	eventually(t, "a to process the last 200", func() bool { return l.processed.distinct() == 1000 })
	if err := stopA(); err != nil {
		t.Fatalf("a: %v", err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range l.violations {
		t.Error(v)
	}
	t.Logf("assignments %v, revocations %v, failed commits %d, duplicates %d", l.assigns, l.revokes, l.commitErrs, len(l.processed.duplicates()))
	if l.assigns["b"] == 0 || l.revokes["b"] != l.assigns["b"] {
		t.Errorf("b had %d assignments and %d revocations", l.assigns["b"], l.revokes["b"])
	}
	if l.revokes["a"] < 8 { // 4 at b's join, 4 at b's leave, 4 at the end
		t.Errorf("a saw %d revocations, want at least 8", l.revokes["a"])
	}
	if m := l.processed.missing(0, 1000); len(m) > 0 {
		t.Errorf("%d messages never processed, e.g. %s", len(m), m[0])
	}
	// Every handler commits its position before giving a partition up, so
	// a message is processed twice only if a commit failed.
	if d := l.processed.duplicates(); len(d) > 0 && l.commitErrs == 0 {
		t.Errorf("%d messages processed twice though every commit succeeded, e.g. %v", len(d), d[0])
	}
	if got, want := fmt.Sprint(committed(t, cfg, group, topic, 4)), fmt.Sprint(highWatermarks(t, env, topic)); got != want {
		t.Errorf("committed %s, want the high watermarks %s", got, want)
	}
}

// TestPartitionConsumerReplay is the detector's recovery path: assigned at a
// committed offset, it finds an earlier offset by time, replays from there,
// and cannot move the committed offset back while it does.
func TestPartitionConsumerReplay(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(1))
	cfg := env.Config
	topic := cfg.Topics.Activity.Name
	group := env.Group("detect")

	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for i := range 100 {
		msgs = append(msgs, kafka.Message{Topic: topic, Value: fmt.Appendf(nil, "%d", i), Time: base.Add(time.Duration(i) * time.Second)})
	}
	if err := p.Produce(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	p.Close()

	// The first run processes offsets 0..59 and commits 60.
	done := make(chan struct{})
	first := newPartitionConsumer(t, cfg, group, topic, kafka.PartitionHandlerFunc(func(ctx context.Context, c *kafka.Claim) error {
		if c.Committed() != kafka.NoOffset || c.Start() != 0 {
			t.Errorf("fresh group: committed %d, start %d; want none and 0", c.Committed(), c.Start())
		}
		for {
			m, err := c.Fetch(ctx)
			if err != nil {
				return err
			}
			if m.Offset == 59 {
				if err := c.Commit(60); err != nil {
					t.Errorf("commit 60: %v", err)
				}
				close(done)
				<-ctx.Done()
				return ctx.Err()
			}
		}
	}))
	stop := running(t, first.Run)
	<-done
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// The second run replays the 30 seconds before its committed offset.
	type result struct {
		committed, start, atTime, afterAll int64
		bounds                             kafka.Bounds
		replayed                           []int64
		lowCommit, highCommit, lowSeek     error
		committedAfterLow                  int64
	}
	res := make(chan result, 1)
	second := newPartitionConsumer(t, cfg, group, topic, kafka.PartitionHandlerFunc(func(ctx context.Context, c *kafka.Claim) error {
		var r result
		r.committed, r.start, r.bounds = c.Committed(), c.Start(), c.Bounds()
		var err error
		if r.atTime, err = c.OffsetForTime(ctx, base.Add(30*time.Second)); err != nil {
			return err
		}
		if r.afterAll, err = c.OffsetForTime(ctx, base.Add(time.Hour)); err != nil {
			return err
		}
		r.lowSeek = c.SetOffset(-5)
		if err := c.SetOffset(r.atTime); err != nil {
			return err
		}
		for {
			m, err := c.Fetch(ctx)
			if err != nil {
				return err
			}
			r.replayed = append(r.replayed, m.Offset)
			if m.Offset == 45 {
				r.lowCommit = c.Commit(46) // behind the committed 60: skipped
				r.committedAfterLow = c.Committed()
			}
			if m.Offset == 99 {
				r.highCommit = c.Commit(150) // past what was fetched: refused
				if err := c.Commit(100); err != nil {
					return err
				}
				res <- r
				<-ctx.Done()
				return nil
			}
		}
	}))
	stop = running(t, second.Run)
	var r result
	select {
	case r = <-res:
	case <-time.After(time.Minute):
		t.Fatal("second run never reached offset 99")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	if r.committed != 60 || r.start != 60 {
		t.Errorf("assigned at committed %d, start %d; want 60, 60", r.committed, r.start)
	}
	if r.bounds != (kafka.Bounds{Start: 0, End: 100}) {
		t.Errorf("bounds %+v, want {0 100}", r.bounds)
	}
	if r.atTime != 30 || r.afterAll != 100 {
		t.Errorf("OffsetForTime: +30s gave %d (want 30), +1h gave %d (want the high watermark 100)", r.atTime, r.afterAll)
	}
	if r.lowSeek == nil {
		t.Error("SetOffset before the log start was accepted")
	}
	if len(r.replayed) != 70 || r.replayed[0] != 30 || r.replayed[69] != 99 {
		t.Errorf("replayed %d offsets from %v, want 30..99", len(r.replayed), r.replayed[:min(3, len(r.replayed))])
	}
	if r.lowCommit != nil || r.committedAfterLow != 60 {
		t.Errorf("commit behind the committed offset: err %v, committed then %d; want nil and 60", r.lowCommit, r.committedAfterLow)
	}
	if r.highCommit == nil {
		t.Error("commit past the fetched messages was accepted")
	}
	if got := committed(t, cfg, group, topic, 1)[0]; got != 100 {
		t.Errorf("group committed %d, want 100", got)
	}
}

func TestPartitionConsumerHandlerErrorStopsRun(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(3))
	cfg := env.Config
	topic := cfg.Topics.Activity.Name
	var mu sync.Mutex
	var stopped []int
	c := newPartitionConsumer(t, cfg, env.Group("detect"), topic, kafka.PartitionHandlerFunc(func(ctx context.Context, c *kafka.Claim) error {
		if c.Partition() == 1 {
			return errors.New("rule pack failed to load")
		}
		<-ctx.Done()
		mu.Lock()
		stopped = append(stopped, c.Partition())
		mu.Unlock()
		return nil
	}))
	err := c.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "rule pack failed to load") || !strings.Contains(err.Error(), topic+"/1") {
		t.Fatalf("Run returned %v, want the handler's error naming %s/1", err, topic)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stopped) != 2 {
		t.Errorf("handlers of the other partitions stopped: %v, want 0 and 2", stopped)
	}
}

// TestPartitionConsumerCommitAsync has every partition's handler commit
// asynchronously after each message, then once more synchronously: the
// group ends up holding each partition's end, Committed reports an
// asynchronous commit once it is answered, and an offset past what was
// fetched is refused as Commit refuses it.
func TestPartitionConsumerCommitAsync(t *testing.T) {
	const partitions = 4
	env := testenv.Kafka(t, testenv.KafkaPartitions(partitions))
	cfg := env.Config
	topic := cfg.Topics.Activity.Name
	produce(t, cfg, topic, 0, 400)
	ends := highWatermarks(t, env, topic)
	group := env.Group("detect")

	var mu sync.Mutex
	var problems []string
	done := map[int]bool{}
	fail := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	c := newPartitionConsumer(t, cfg, group, topic, kafka.PartitionHandlerFunc(func(ctx context.Context, c *kafka.Claim) error {
		end := ends[c.Partition()]
		next := c.Start()
		for next < end {
			m, err := c.Fetch(ctx)
			if err != nil {
				return nil
			}
			next = m.Offset + 1
			if err := c.CommitAsync(next); err != nil {
				fail("partition %d: CommitAsync(%d): %v", c.Partition(), next, err)
			}
		}
		if err := c.CommitAsync(next + 1); err == nil {
			fail("partition %d: CommitAsync past the last fetched message was accepted", c.Partition())
		}
		for c.Committed() < next && ctx.Err() == nil {
			time.Sleep(time.Millisecond) // the last asynchronous commit is answered
		}
		if err := c.Commit(next); err != nil {
			fail("partition %d: Commit(%d) after CommitAsync: %v", c.Partition(), next, err)
		}
		mu.Lock()
		done[c.Partition()] = true
		mu.Unlock()
		<-ctx.Done()
		return nil
	}))
	stop := running(t, c.Run)
	eventually(t, "every partition to be consumed and committed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done) == len(ends)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	got := committed(t, cfg, group, topic, partitions)
	for p, end := range ends {
		if got[p] != end {
			t.Errorf("partition %d: group committed %d, want %d", p, got[p], end)
		}
	}
}
