package runner

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestDuplicateInput: ingest is at least once (kafka-go retries a produce
// that timed out, and the first attempt may have been stored), so
// crm.activity can hold an event twice. With every event written twice,
// the main stream's alerts are those of the engine over each partition
// with the second copies left out, no alert of any stream names one event
// twice as evidence.
func TestDuplicateInput(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	var msgs []kafka.Message
	for _, m := range genStream(t, 3, 8_000) {
		msgs = append(msgs, m, m)
	}
	produce(t, kcfg, kcfg.Topics.Activity.Name, msgs)
	cfg := testConfig()
	// No stats tick after the first: the counters must reach the metrics
	// at shutdown, and the first interval's counts with them.
	cfg.StatsInterval = time.Hour
	run := start(t, cfg, kcfg)
	waitCaughtUp(t, kcfg, cfg.Group)
	if err := run.stop(false); err != nil {
		t.Fatal(err)
	}

	set := run.r.set.Load()
	// The copies skipped, per main-stream rule, as the engine counts them
	// over each partition with every copy.
	wantDups := map[string]uint64{}
	for _, part := range byPartition(env.ReadTopic(t, kcfg.Topics.Activity.Name)) {
		sh := set.Main.eng.NewShard()
		var ev event.Event
		for _, m := range part {
			if event.DecodeInto(&ev, m.Value, event.Options{}) == nil {
				sh.Process(&ev, nil)
			}
		}
		for _, r := range sh.Counters().Rules {
			wantDups[r.Rule] += r.Duplicates
		}
	}
	var total uint64
	for _, rule := range set.Main.rules {
		got := testutil.ToFloat64(run.r.m.dupEvents.WithLabelValues(rule))
		if got != float64(wantDups[rule]) {
			t.Errorf("trailwatch_detect_duplicate_events_total{rule=%q} = %v, want %d", rule, got, wantDups[rule])
		}
		total += wantDups[rule]
	}
	if total == 0 {
		t.Error("no main-stream rule skipped a copy of the events written twice")
	}

	want := engineAlerts(t, env, kcfg.Topics.Activity.Name, set.Main.eng, true)
	got := map[string]bool{}
	for _, m := range env.ReadTopic(t, kcfg.Topics.Alerts.Name) {
		var a alert.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		evidence := map[string]bool{}
		for _, id := range a.EventIDs {
			if evidence[id] {
				t.Errorf("alert %s (%s) names event %s twice: %v", a.ID, a.Rule.ID, id, a.EventIDs)
			}
			evidence[id] = true
		}
		if slicesContain(set.Main.rules, a.Rule.ID) {
			got[a.ID] = true
		}
	}
	if len(want) == 0 {
		t.Fatal("the generated stream raised no alert on the main stream")
	}
	for id := range want {
		if !got[id] {
			t.Errorf("alert %s of the engine over the events once is missing", id)
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("alert %s is not the engine's over the events once", id)
		}
	}
}
