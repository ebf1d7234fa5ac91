package runner

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestRunnerEmitsWhatTheEngineDoes runs a generated stream (and one
// message that is not an event) through the detector and checks what
// reaches Kafka: the main stream's alerts are exactly those of the pure
// engine over each partition, alerts carry the wall clock as detected_at
// and are keyed by tenant and group, actions by tenant, re-keyed rules
// fire, and the bad message is in the dead-letter topic with its position.
func TestRunnerEmitsWhatTheEngineDoes(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	n := 20_000
	if raceEnabled {
		n = 8_000 // 23 main-stream and 4 re-keyed alerts, the bad message at 5,000
	}
	msgs := genStream(t, 1, n)
	msgs = append(msgs[:5000:5000], append([]kafka.Message{{Key: []byte("acme\x00p1"), Value: []byte(`{"id":"broken",`)}}, msgs[5000:]...)...)
	produce(t, kcfg, kcfg.Topics.Activity.Name, msgs)
	// And a message on the re-keyed topic that no detector wrote.
	produce(t, kcfg, kcfg.Topics.Rekeyed.Name, []kafka.Message{{Key: []byte("k"), Value: []byte(`{}`)}})

	before := time.Now()
	cfg := testConfig()
	run := start(t, cfg, kcfg)
	waitCaughtUp(t, kcfg, cfg.Group)
	if err := run.stop(false); err != nil {
		t.Fatal(err)
	}

	// The pure engine over each partition, in offset order.
	set := run.r.set.Load()
	want := engineAlerts(t, env, kcfg.Topics.Activity.Name, set.Main.eng, false)
	if len(want) == 0 {
		t.Fatal("the generated stream raised no alert on the main stream")
	}

	got := map[string]bool{}
	rekeyed := 0
	for _, m := range env.ReadTopic(t, kcfg.Topics.Alerts.Name) {
		var a alert.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.DetectedAt.Before(before.Add(-time.Second)) || a.DetectedAt.Equal(a.TriggeredAt) {
			t.Errorf("alert %s: detected_at %s is not the wall clock at emission (triggered %s)", a.ID, a.DetectedAt, a.TriggeredAt)
		}
		if !bytes.Equal(m.Key, alertKey(nil, &a)) || !strings.HasPrefix(string(m.Key), a.Tenant+"\x00") {
			t.Errorf("alert %s keyed %q", a.ID, m.Key)
		}
		if slicesContain(set.Main.rules, a.Rule.ID) {
			got[a.ID] = true
		} else {
			rekeyed++
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("alert %s of the engine is not on %s", id, kcfg.Topics.Alerts.Name)
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("alert %s on %s is not the engine's", id, kcfg.Topics.Alerts.Name)
		}
	}
	if rekeyed == 0 {
		t.Errorf("no alert from the re-keyed rules %v", set.sigs)
	}
	t.Logf("%d main-stream alerts, %d re-keyed", len(got), rekeyed)

	for _, m := range env.ReadTopic(t, kcfg.Topics.Actions.Name) {
		var a alert.Action
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != a.Tenant {
			t.Errorf("action %s keyed %q, want its tenant %q", a.ID, m.Key, a.Tenant)
		}
	}

	// Copies go to the re-keyed topic for the events a re-keyed rule's
	// filter takes, not for every event its routing admits: the event ids
	// copied per signature are those whose Process on a shard of the
	// signature's engine counted a match.
	wantCopies, routed := map[string]map[string]bool{}, 0
	probes := map[string]*detect.Shard{}
	for _, sig := range set.sigs {
		wantCopies[sig], probes[sig] = map[string]bool{}, set.Rekeyed[sig].eng.NewShard()
	}
	var e event.Event
	for _, m := range env.ReadTopic(t, kcfg.Topics.Activity.Name) {
		if event.DecodeInto(&e, m.Value, event.Options{}) != nil {
			continue // the broken message
		}
		for _, sig := range set.sigs {
			sh := probes[sig]
			if set.Rekeyed[sig].eng.Wants(&e) {
				routed++
			}
			before := matchedOf(sh)
			sh.Process(&e, nil)
			if matchedOf(sh) > before {
				wantCopies[sig][e.ID] = true
			}
		}
	}
	gotCopies, copies := map[string]map[string]bool{}, 0
	for _, m := range env.ReadTopic(t, kcfg.Topics.Rekeyed.Name) {
		ci, err := parseCopy(&m)
		if err != nil {
			continue // the message no detector wrote
		}
		if err := event.DecodeInto(&e, m.Value, event.Options{}); err != nil {
			t.Fatalf("copy at %d: %v", m.Offset, err)
		}
		if gotCopies[ci.sig] == nil {
			gotCopies[ci.sig] = map[string]bool{}
		}
		gotCopies[ci.sig][e.ID] = true
		copies++
	}
	wanted := 0
	for _, sig := range set.sigs {
		wanted += len(wantCopies[sig])
		for id := range wantCopies[sig] {
			if !gotCopies[sig][id] {
				t.Errorf("[%s]: event %s, which the stream's filters take, was not copied", sig, id)
			}
		}
		for id := range gotCopies[sig] {
			if !wantCopies[sig][id] {
				t.Errorf("[%s]: event %s was copied, but the stream's filters do not take it", sig, id)
			}
		}
	}
	if wanted == 0 || wanted >= routed {
		t.Errorf("%d events taken by re-keyed filters of %d routed to them: the stream does not tell the two apart", wanted, routed)
	}
	t.Logf("%d copies for %d events taken by re-keyed rules' filters, of %d routed to them", copies, wanted, routed)

	dl := env.ReadTopic(t, kcfg.Topics.DeadLetter.Name)
	if len(dl) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dl))
	}
	for _, d := range dl {
		var rec deadletter.Record
		if err := json.Unmarshal(d.Value, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Stage != "detect" || rec.Raw == nil || rec.Origin.Partition == nil || rec.Origin.Offset == nil || rec.Reason == "" {
			t.Errorf("dead letter %s", d.Value)
		}
		switch rec.Origin.Topic {
		case kcfg.Topics.Activity.Name:
			if *rec.Raw != `{"id":"broken",` {
				t.Errorf("dead letter %s", d.Value)
			}
		case kcfg.Topics.Rekeyed.Name:
			if !strings.Contains(rec.Reason, "not a re-keyed copy") {
				t.Errorf("dead letter %s", d.Value)
			}
		default:
			t.Errorf("dead letter from %s", rec.Origin.Topic)
		}
	}
}

// matchedOf is the events a shard's rules' filters took, all rules.
func matchedOf(sh *detect.Shard) uint64 {
	var n uint64
	for _, r := range sh.Counters().Rules {
		n += r.Matched
	}
	return n
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// engineAlerts runs the pure engine over each partition of topic in offset
// order (without a second copy of an event when once is set) and returns
// the ids of the alerts it raises.
func engineAlerts(t *testing.T, env testenv.KafkaEnv, topic string, eng *detect.Engine, once bool) map[string]bool {
	t.Helper()
	want := map[string]bool{}
	for _, part := range byPartition(env.ReadTopic(t, topic)) {
		sh := eng.NewShard()
		seen := map[string]bool{}
		var ev event.Event
		var out []detect.Output
		for _, m := range part {
			if event.DecodeInto(&ev, m.Value, event.Options{}) != nil || once && seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			out = sh.Process(&ev, out[:0])
			for _, o := range out {
				if o.Kind == detect.OutputAlert {
					want[o.Alert.ID] = true
				}
			}
		}
	}
	return want
}

// byPartition groups a topic's messages by partition, in offset order.
func byPartition(msgs []kafka.Message) map[int][]kafka.Message {
	out := map[int][]kafka.Message{}
	for _, m := range msgs {
		out[m.Partition] = append(out[m.Partition], m)
	}
	return out
}
