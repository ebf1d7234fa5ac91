package runner

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestMessageHandledAfterRevocation: a partition's context can end while
// it handles a message it already fetched (kafka-go's reader may return a
// buffered message after its context ended, and a revocation can land
// mid-message). The state then holds the message, so its outputs must
// still reach the emitter, even past max_pending: the flush at revocation
// delivers them before the state is kept for the next generation, which
// resumes after the message. Dropping them lost the alert for good
// (TestRecovery/rebalance, under load).
func TestMessageHandledAfterRevocation(t *testing.T) {
	env := testenv.Kafka(t)
	kcfg := env.Config
	if err := kafka.EnsureTopics(t.Context(), kcfg); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.MaxPending = 1 // the first message's outputs fill the emitter
	r, err := New(cfg, kcfg, testenv.Logger(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kafka.NewProducer(kcfg, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	set := r.set.Load()
	p := newTestPartition(r, set)
	p.em = newEmitter(prod, 0, cfg.MaxPending, r.m, p.log)

	// Two accounts grant themselves a permission (perm.self_granted_privilege).
	msgs := make([]kafka.Message, 2)
	for i, u := range []string{"005A", "005B"} {
		ev := mkEvent("ev-"+u, at(0), "permission", "grant", u)
		ev.TargetUser = event.TargetUser{ID: u}
		ev.Permission = event.Permission{Name: "Modify_All_Data"}
		msgs[i] = kafka.Message{Topic: kcfg.Topics.Activity.Name, Offset: int64(i), Key: []byte("acme\x00" + u),
			Value: event.AppendJSON(nil, ev), Time: at(0)}
	}
	if err := p.handle(t.Context(), &msgs[0]); err != nil {
		t.Fatal(err)
	}
	revoked, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.handle(revoked, &msgs[1]); err != nil {
		t.Fatalf("handling a message after the revocation: %v", err)
	}
	if p.ps.next != 2 || p.tainted {
		t.Fatalf("state at %d (tainted %v), want 2, untainted", p.ps.next, p.tainted)
	}

	// The revocation's flush: the emitter starts only now, so both
	// messages' outputs were queued while it was full.
	bg, stop := context.WithCancel(context.Background())
	defer stop()
	go p.em.run(bg)
	if !p.em.flushed(t.Context()) || p.em.acked.Load() != 2 {
		t.Fatalf("outputs acknowledged through %d, want 2", p.em.acked.Load())
	}
	got := map[string]bool{}
	for _, m := range env.ReadTopic(t, kcfg.Topics.Alerts.Name) {
		var a alert.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.Rule.ID == "perm.self_granted_privilege" {
			got[a.Group["user.id"]] = true
		}
	}
	if !got["005A"] || !got["005B"] {
		t.Errorf("self-grant alerts on %s for %v, want 005A and 005B", kcfg.Topics.Alerts.Name, got)
	}
}

// newTestPartition is a main-stream partition of r with fresh state at
// offset 0, without a claim: enough to handle messages.
func newTestPartition(r *Runner, set *Set) *partition {
	return &partition{
		r: r, isMain: true, log: r.log,
		opts:       event.Options{MaxFuture: r.cfg.MaxFuture, ResolveTimezone: true},
		rekeyTopic: r.kcfg.Topics.Rekeyed.Name,
		ps: &partState{topic: r.kcfg.Topics.Activity.Name, set: set,
			units: map[string]*unit{"": {st: set.Main, sh: set.Main.eng.NewShard()}}},
	}
}
