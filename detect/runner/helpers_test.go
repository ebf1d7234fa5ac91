package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/trailwatch/trailwatch/detect/internal/traffic"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// testConfig is a runner configuration for tests: the shipped rule pack,
// short intervals.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Rules = "../../rules"
	cfg.ReloadInterval = 0
	cfg.CommitInterval = 100 * time.Millisecond
	cfg.SnapshotInterval = time.Second
	cfg.StatsInterval = time.Second
	return cfg
}

// withTopics returns kcfg with its own output, re-keyed, state and
// dead-letter topics (name + suffix): several runs read one crm.activity
// and write apart.
func withTopics(kcfg kafka.Config, suffix string) kafka.Config {
	for _, tc := range []*kafka.TopicConfig{&kcfg.Topics.Alerts, &kcfg.Topics.Actions, &kcfg.Topics.Rekeyed, &kcfg.Topics.DetectState, &kcfg.Topics.DeadLetter} {
		tc.Name += "." + suffix
	}
	return kcfg
}

// genStream is generated traffic, encoded, keyed as ingest keys
// crm.activity (tenant and person). Its event time runs at 5,000 events a
// second: while a detector catches up, its partitions drift apart in event
// time, and the re-keyed copies they write arrive out of order by that
// drift; with the generator's own disorder (up to 30 s) it stays within
// the default allowed lateness (1 minute), so no copy is late and every
// run must give the same alerts.
func genStream(tb testing.TB, seed uint64, n int) []kafka.Message {
	tb.Helper()
	g := traffic.New(traffic.Config{Seed: seed, Accounts: 3000, Tenants: 5, AttackRate: 0.003, Rate: 5000})
	out := make([]kafka.Message, n)
	var e event.Event
	for i := range out {
		g.Next(&e)
		out[i] = kafka.Message{Key: []byte(e.Tenant + "\x00" + e.PersonKey()), Value: event.AppendJSON(nil, &e)}
	}
	return out
}

// produce writes msgs to topic, in calls of 500.
func produce(tb testing.TB, kcfg kafka.Config, topic string, msgs []kafka.Message) {
	tb.Helper()
	p, err := kafka.NewProducer(kcfg, zerolog.Nop(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < len(msgs); i += 500 {
		batch := slices.Clone(msgs[i:min(i+500, len(msgs))])
		for j := range batch {
			batch[j].Topic = topic
		}
		if err := p.Produce(context.Background(), batch...); err != nil {
			tb.Fatalf("producing: %v", err)
		}
	}
}

// started is a runner running on a goroutine.
type started struct {
	r    *Runner
	reg  *prometheus.Registry
	stop func(crash bool) error
}

// start runs a runner until stop: gracefully, or as a crash (no flush,
// no commit, no last snapshot).
func start(t testing.TB, cfg Config, kcfg kafka.Config) *started {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := New(cfg, kcfg, testenv.Logger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func(crash bool) error {
		once.Do(func() {
			r.crash.Store(crash)
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(time.Minute):
				runErr = fmt.Errorf("runner did not stop within a minute")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop(true) })
	return &started{r: r, reg: reg, stop: stop}
}

// eventually polls cond until it holds, failing t after two minutes. It
// waits for asynchronous outcomes; it asserts nothing about time.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// offsets returns the group's committed offsets and the high watermarks
// of topic, by partition. An error is the broker not answering in time
// (a busy machine): callers polling in eventually try again.
func offsets(t testing.TB, kcfg kafka.Config, group, topic string) (committed, end map[int]int64, err error) {
	t.Helper()
	client, err := kcfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := kcfg.Topics.Activity.Partitions
	ps := make([]int, n)
	req := &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{}}
	for i := range ps {
		ps[i] = i
		req.Topics[topic] = append(req.Topics[topic], kafkago.LastOffsetOf(i))
	}
	resp, err := client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ps}})
	if err != nil {
		return nil, nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	committed, end = map[int]int64{}, map[int]int64{}
	for _, p := range resp.Topics[topic] {
		committed[p.Partition] = p.CommittedOffset
	}
	lo, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	for _, p := range lo.Topics[topic] {
		end[p.Partition] = p.LastOffset
	}
	return committed, end, nil
}

// progress is the share of crm.activity the group has committed, or -1
// (logged) when the broker did not answer in time.
func progress(t testing.TB, kcfg kafka.Config, group string) float64 {
	t.Helper()
	c, e, err := offsets(t, kcfg, group, kcfg.Topics.Activity.Name)
	if err != nil {
		t.Logf("progress unknown: %v", err)
		return -1
	}
	var done, all int64
	for p, end := range e {
		done += max(c[p], 0)
		all += end
	}
	if all == 0 {
		return 1
	}
	return float64(done) / float64(all)
}

// caughtUp says whether the group has committed every message of
// crm.activity and of its re-keyed topic (false, logged, when the broker
// did not answer in time).
func caughtUp(t testing.TB, kcfg kafka.Config, group string) bool {
	t.Helper()
	for _, topic := range []string{kcfg.Topics.Activity.Name, kcfg.Topics.Rekeyed.Name} {
		c, e, err := offsets(t, kcfg, group, topic)
		if err != nil {
			t.Logf("not known to be caught up: %v", err)
			return false
		}
		for p, end := range e {
			if end > 0 && c[p] != end {
				return false
			}
		}
	}
	return true
}

// waitCaughtUp waits until the group has processed everything, twice in a
// row (the re-keyed topic grows while crm.activity is processed).
func waitCaughtUp(t testing.TB, kcfg kafka.Config, group string) {
	t.Helper()
	defer func() {
		if t.Failed() {
			for _, topic := range []string{kcfg.Topics.Activity.Name, kcfg.Topics.Rekeyed.Name} {
				c, e, err := offsets(t, kcfg, group, topic)
				t.Logf("%s: committed %v, end %v %v", topic, c, e, err)
			}
		}
	}()
	eventually(t, "the detector to catch up", func() bool {
		if !caughtUp(t, kcfg, group) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
		return caughtUp(t, kcfg, group)
	})
}

// outputs reads a topic of alerts or actions: by id, the record without
// the fields that legitimately differ between two emissions of the same
// output (detected_at, the wall clock of each emission). It fails t if one
// id appears with different contents.
func outputs(t testing.TB, env testenv.KafkaEnv, topic string) (byID map[string]string, messages int) {
	t.Helper()
	byID = map[string]string{}
	for _, m := range env.ReadTopic(t, topic) {
		var rec map[string]any
		if err := json.Unmarshal(m.Value, &rec); err != nil {
			t.Fatalf("%s at %d/%d: %v", topic, m.Partition, m.Offset, err)
		}
		id, _ := rec["id"].(string)
		delete(rec, "detected_at")
		b, _ := json.Marshal(rec)
		if prev, ok := byID[id]; ok && prev != string(b) {
			t.Errorf("%s: id %s appears with different contents:\n%s\n%s", topic, id, prev, b)
		}
		byID[id] = string(b)
		messages++
	}
	return byID, messages
}

// sameIDs reports the ids only in want and only in got.
func sameIDs(t testing.TB, what string, want, got map[string]string) {
	t.Helper()
	var missing, extra []string
	for id := range want {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		slices.Sort(missing)
		slices.Sort(extra)
		show := func(ids []string, from map[string]string) string {
			s := ""
			for _, id := range ids[:min(len(ids), 5)] {
				s += "\n  " + from[id]
			}
			return s
		}
		t.Errorf("%s: %d ids missing, %d unexpected (of %d expected); missing:%s\nunexpected:%s",
			what, len(missing), len(extra), len(want), show(missing, want), show(extra, got))
	}
}

// rulesOf counts alerts by rule id, for logs.
func rulesOf(alerts map[string]string) map[string]int {
	out := map[string]int{}
	for _, a := range alerts {
		var rec struct {
			Rule struct{ ID string } `json:"rule"`
		}
		_ = json.Unmarshal([]byte(a), &rec)
		out[rec.Rule.ID]++
	}
	return out
}

// metricValue sums a counter, gauge or histogram count from reg by name
// and labels.
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
