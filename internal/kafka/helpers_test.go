package kafka_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// produce writes n messages with keys key-0..key-(n-1) and values
// "value-<i>" to topic, in calls of 100, and fails t on any error.
func produce(t testing.TB, cfg kafka.Config, topic string, from, n int) {
	t.Helper()
	p, err := kafka.NewProducer(cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := from; i < from+n; i += 100 {
		var msgs []kafka.Message
		for j := i; j < min(i+100, from+n); j++ {
			msgs = append(msgs, kafka.Message{Topic: topic, Key: fmt.Appendf(nil, "key-%d", j), Value: fmt.Appendf(nil, "value-%d", j)})
		}
		if err := p.Produce(t.Context(), msgs...); err != nil {
			t.Fatalf("producing: %v", err)
		}
	}
}

// position is a message's place in the log.
type position struct {
	partition int
	offset    int64
}

// seen records what handlers processed, safe across goroutines.
type seen struct {
	mu     sync.Mutex
	values map[string]int // value -> times processed
	pos    map[position]int
}

func newSeen() *seen { return &seen{values: map[string]int{}, pos: map[position]int{}} }

func (s *seen) add(msgs ...kafka.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.values[string(m.Value)]++
		s.pos[position{m.Partition, m.Offset}]++
	}
}

func (s *seen) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// missing lists the values of value-from..value-(from+n-1) never processed.
func (s *seen) missing(from, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i := from; i < from+n; i++ {
		if v := fmt.Sprintf("value-%d", i); s.values[v] == 0 {
			out = append(out, v)
		}
	}
	return out
}

func (s *seen) duplicates() []position {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []position
	for p, n := range s.pos {
		if n > 1 {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b position) int {
		if a.partition != b.partition {
			return a.partition - b.partition
		}
		return int(a.offset - b.offset)
	})
	return out
}

// eventually polls cond every 10ms until it holds, failing t after a
// minute. It waits for asynchronous outcomes; it asserts nothing about time.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running runs fn on a goroutine with a context t can cancel, and returns
// stop, which cancels it and returns fn's error.
func running(t testing.TB, fn func(ctx context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				err = fmt.Errorf("did not stop within a minute")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// counterValue reads a counter or gauge from reg by name and labels.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return total
}

// committed returns the group's committed offset per partition of topic
// (-1 where none), as the coordinator reports it.
func committed(t testing.TB, cfg kafka.Config, group, topic string, partitions int) map[int]int64 {
	t.Helper()
	client, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	resp, err := client.OffsetFetch(t.Context(), &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ps}})
	if err != nil {
		t.Fatalf("fetching offsets of group %s: %v", group, err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("fetching offsets of group %s, %s/%d: %v", group, topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// highWatermarks returns the high watermark per partition of topic.
func highWatermarks(t testing.TB, env testenv.KafkaEnv, topic string) map[int]int64 {
	t.Helper()
	out := map[int]int64{}
	for _, m := range env.ReadTopic(t, topic) {
		out[m.Partition] = max(out[m.Partition], m.Offset+1)
	}
	return out
}
