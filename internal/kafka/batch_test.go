package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func newBatchConsumer(t testing.TB, cfg kafka.Config, opts kafka.BatchOptions, h kafka.BatchHandler, reg prometheus.Registerer) *kafka.BatchConsumer {
	t.Helper()
	c, err := kafka.NewBatchConsumer(cfg, opts, h, testenv.Logger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBatchConsumerDeliversAndCommits(t *testing.T) {
	env := testenv.Kafka(t)
	cfg := env.Config
	topic := cfg.Topics.Activity.Name
	group := env.Group("sink")
	produce(t, cfg, topic, 0, 1000)

	reg := prometheus.NewRegistry()
	got := newSeen()
	var maxBatch atomic.Int64
	c := newBatchConsumer(t, cfg, kafka.BatchOptions{Group: group, Topics: []string{topic}, MaxMessages: 64, MaxWait: 20 * time.Millisecond},
		func(ctx context.Context, msgs []kafka.Message) error {
			if int64(len(msgs)) > maxBatch.Load() {
				maxBatch.Store(int64(len(msgs)))
			}
			got.add(msgs...)
			return nil
		}, reg)
	if err := c.Ready(t.Context()); err == nil {
		t.Error("Ready before Run")
	}
	stop := running(t, c.Run)
	eventually(t, "the consumer to join its group", func() bool { return c.Ready(t.Context()) == nil })
	eventually(t, "1000 messages handled", func() bool { return got.distinct() == 1000 })
	hw := highWatermarks(t, env, topic)
	eventually(t, "offsets committed up to the high watermarks", func() bool {
		return fmt.Sprint(committed(t, cfg, group, topic, 4)) == fmt.Sprint(hw)
	})
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := c.Ready(t.Context()); err == nil {
		t.Error("Ready after Run returned")
	}
	if d := got.duplicates(); len(d) > 0 {
		t.Errorf("%d messages handled twice without any failure, e.g. %v", len(d), d[0])
	}
	if m := maxBatch.Load(); m > 64 {
		t.Errorf("a batch had %d messages, more than MaxMessages 64", m)
	}
	if n := metricValue(t, reg, "trailwatch_kafka_consumer_messages_total", map[string]string{"group": group}); n != 1000 {
		t.Errorf("consumer messages_total = %v, want 1000", n)
	}
	if n := metricValue(t, reg, "trailwatch_kafka_consumer_commits_total", map[string]string{"group": group}); n == 0 {
		t.Error("commits_total is 0")
	}
	// Partitions are revoked on shutdown: their lag series go with them.
	if n := metricValue(t, reg, "trailwatch_kafka_consumer_lag_messages", nil); n != 0 {
		t.Errorf("lag series left after shutdown sum to %v", n)
	}
}

// TestBatchConsumerCommitsOnlyAfterSuccess stops a consumer while its
// handler is stuck on a batch, and starts another in the same group: the
// stuck batch is delivered again, and nothing the first one handled
// successfully is.
func TestBatchConsumerCommitsOnlyAfterSuccess(t *testing.T) {
	env := testenv.Kafka(t)
	cfg := env.Config
	topic := cfg.Topics.Actions.Name
	group := env.Group("respond")
	const n = 600
	produce(t, cfg, topic, 0, n)
	opts := kafka.BatchOptions{Group: group, Topics: []string{topic}, MaxMessages: 50, MaxWait: 10 * time.Millisecond}

	first := newSeen() // what the first consumer handled successfully
	var calls atomic.Int32
	stuck := make(chan []kafka.Message, 1)
	release := make(chan struct{})
	a := newBatchConsumer(t, cfg, opts, func(ctx context.Context, msgs []kafka.Message) error {
		if calls.Add(1) <= 3 {
			first.add(msgs...)
			return nil
		}
		select {
		case stuck <- append([]kafka.Message(nil), msgs...):
			<-release // the "crash": never made durable
		default: // calls after the stuck one, during shutdown
		}
		return errors.New("not durable")
	}, nil)
	// Stop the consumer while the handler is stuck, then let the handler
	// fail: shutdown has begun before it returns.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- a.Run(ctx) }()
	var lost []kafka.Message
	select {
	case lost = <-stuck:
	case <-time.After(time.Minute):
		t.Fatal("handler never got a fourth batch")
	}
	cancel()
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("first consumer: %v", err)
	}

	second := newSeen()
	b := newBatchConsumer(t, cfg, opts, func(ctx context.Context, msgs []kafka.Message) error {
		second.add(msgs...)
		return nil
	}, nil)
	stopB := running(t, b.Run)
	eventually(t, "every message handled by one consumer or the other", func() bool {
		first.mu.Lock()
		defer first.mu.Unlock()
		second.mu.Lock()
		defer second.mu.Unlock()
		for i := range n {
			v := fmt.Sprintf("value-%d", i)
			if first.values[v] == 0 && second.values[v] == 0 {
				return false
			}
		}
		return true
	})
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	for _, m := range lost {
		if second.values[string(m.Value)] == 0 {
			t.Errorf("%s was in the batch that was never made durable and was not delivered again", m.Value)
		}
	}
	for v := range first.values {
		if second.values[v] > 0 {
			t.Errorf("%s was handled successfully and committed, yet delivered again", v)
		}
	}
	if len(first.values)+len(second.values) != n {
		t.Errorf("handled %d + %d messages, want %d in all", len(first.values), len(second.values), n)
	}
}

// TestBatchConsumerRetriesAndLosesNothing fails the handler and then the
// broker's offset commits (with a ControlKey fault on OffsetCommit): the
// consumer retries the same batch, keeps going when commits fail, and a
// restart delivers again exactly what was not committed.
func TestBatchConsumerRetriesAndLosesNothing(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(2))
	cluster := env.Cluster(t)
	cfg := env.Config
	topic := cfg.Topics.Alerts.Name
	group := env.Group("sink")
	opts := kafka.BatchOptions{Group: group, Topics: []string{topic}, MaxMessages: 40, MaxWait: 10 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond}

	var failCommits atomic.Bool
	var refused atomic.Int32
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !failCommits.Load() {
			return nil, nil, false
		}
		refused.Add(1)
		req := kreq.(*kmsg.OffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})

	reg := prometheus.NewRegistry()
	got := newSeen()
	var mu sync.Mutex
	var failedBatches [][]string // contents of each failed call, then of the call after it
	var calls atomic.Int32
	handler := func(ctx context.Context, msgs []kafka.Message) error {
		var vals []string
		for _, m := range msgs {
			vals = append(vals, string(m.Value))
		}
		mu.Lock()
		defer mu.Unlock()
		if c := calls.Add(1); c <= 4 {
			failedBatches = append(failedBatches, vals)
			if c < 4 {
				return errors.New("clickhouse is down")
			}
		}
		got.add(msgs...)
		return nil
	}
	a := newBatchConsumer(t, cfg, opts, handler, reg)
	stopA := running(t, a.Run)

	// Phase 1: the handler fails three times on its first batch, then
	// the same batch goes through.
	produce(t, cfg, topic, 0, 200)
	eventually(t, "phase 1 handled", func() bool { return got.distinct() == 200 })
	mu.Lock()
	for i := 1; i < len(failedBatches); i++ {
		if fmt.Sprint(failedBatches[i]) != fmt.Sprint(failedBatches[0]) {
			t.Errorf("retry %d carried %v, want the failed batch %v again", i, failedBatches[i], failedBatches[0])
		}
	}
	mu.Unlock()
	if n := metricValue(t, reg, "trailwatch_kafka_consumer_handler_errors_total", nil); n != 3 {
		t.Errorf("handler_errors_total = %v, want 3", n)
	}
	hw := highWatermarks(t, env, topic)
	eventually(t, "phase 1 committed", func() bool { return fmt.Sprint(committed(t, cfg, group, topic, 2)) == fmt.Sprint(hw) })

	// Phase 2: the broker refuses every commit. The consumer goes on.
	failCommits.Store(true)
	produce(t, cfg, topic, 200, 200)
	eventually(t, "phase 2 handled", func() bool { return got.distinct() == 400 })
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if refused.Load() == 0 || metricValue(t, reg, "trailwatch_kafka_consumer_commit_errors_total", nil) == 0 {
		t.Fatalf("no commit was refused (%d) or counted", refused.Load())
	}
	failCommits.Store(false)

	// A restart delivers phase 2 again, and only phase 2.
	again := newSeen()
	b := newBatchConsumer(t, cfg, opts, func(ctx context.Context, msgs []kafka.Message) error {
		again.add(msgs...)
		return nil
	}, nil)
	stopB := running(t, b.Run)
	eventually(t, "phase 2 delivered again", func() bool { return len(again.missing(200, 200)) == 0 })
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	if m := again.missing(0, 200); len(m) != 200 {
		t.Errorf("%d phase 1 messages, committed before the fault, were delivered again", 200-len(m))
	}
}

// TestBatchConsumerBoundsFetchAhead fails every batch and checks that the
// consumer stops fetching: one batch in hand, one batch in the channel and
// one message per partition waiting to be sent.
func TestBatchConsumerBoundsFetchAhead(t *testing.T) {
	env := testenv.Kafka(t, testenv.KafkaPartitions(3))
	cfg := env.Config
	topic := cfg.Topics.Activity.Name
	group := env.Group("stalled")
	produce(t, cfg, topic, 0, 3000)
	reg := prometheus.NewRegistry()
	var calls atomic.Int32
	c := newBatchConsumer(t, cfg, kafka.BatchOptions{Group: group, Topics: []string{topic}, MaxMessages: 25, RetryMin: time.Millisecond, RetryMax: time.Millisecond},
		func(ctx context.Context, msgs []kafka.Message) error {
			calls.Add(1)
			return errors.New("always failing")
		}, reg)
	stop := running(t, c.Run)
	fetched := func() float64 {
		return metricValue(t, reg, "trailwatch_kafka_consumer_messages_total", map[string]string{"group": group})
	}
	const bound = 2*25 + 3
	eventually(t, "the buffers to fill", func() bool { return fetched() == bound })
	before := calls.Load()
	eventually(t, "50 more failed attempts", func() bool { return calls.Load() >= before+50 })
	if n := fetched(); n != bound {
		t.Errorf("fetched %v messages while the handler kept failing, want it to stay at %d", n, bound)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for p, off := range committed(t, cfg, group, topic, 3) {
		if off != -1 {
			t.Errorf("partition %d committed at %d though no batch succeeded", p, off)
		}
	}
}
