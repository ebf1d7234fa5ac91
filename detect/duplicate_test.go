package detect

import (
	"bytes"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestDuplicateEvents: ingest is at least once, so one event (same id,
// same time) may arrive twice or more. A window counts it once, in order or
// arriving after later events, and a previous-event rule never takes an
// event for its own predecessor. Distinct events at the same time still
// count.
func TestDuplicateEvents(t *testing.T) {
	win := engine(t, ruleHead+`filter: event.category == "data_change"
group_by: [object.id]
window: 30m
condition: count() >= 3
`, nil)
	change := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "data_change", "update", object("c1"))
	}
	for _, tc := range []struct {
		name string
		evs  []*event.Event
		want string // trigger event ids
		dups uint64
	}{
		{"one event three times", []*event.Event{change("a", 0), change("a", 0), change("a", 0)}, "", 2},
		{"a duplicate after later events", []*event.Event{change("a", 0), change("b", time.Minute), change("a", 0)}, "", 1},
		{"a duplicate out of order", []*event.Event{change("b", time.Minute), change("a", 0), change("a", 0)}, "", 1},
		{"three events, one repeated", []*event.Event{change("a", 0), change("a", 0), change("b", time.Minute), change("c", 2*time.Minute)}, "c", 1},
		{"distinct events at one time", []*event.Event{change("a", 0), change("b", 0), change("c", 0)}, "c", 0},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDuplicates(t, win, tc.evs, tc.want, tc.dups) })
	}

	// Previous events: a duplicate is not its own predecessor. Every event
	// with a predecessor within the hour alerts, so l2 does, and l1's
	// second copy would if it were taken for a new event.
	prev := engine(t, ruleHead+`filter: event.category == "authentication"
group_by: [user.id]
previous: 1h
condition: prev != nil
`, nil)
	out := run(prev, ev("l1", at(0), "authentication", "login"), ev("l1", at(0), "authentication", "login"), ev("l2", at(time.Hour/2), "authentication", "login"))
	if got := triggers(out); got != "l2" {
		t.Errorf("alerts triggered by %q, want only l2:\n%s", got, describe(out))
	}
}

// TestDuplicateSequenceEvents: a sequence takes an event once. A copy of a
// step's event, before or after the sequence it completed, starts or
// continues no other sequence, and a copy of the trigger raises nothing.
func TestDuplicateSequenceEvents(t *testing.T) {
	// Suppression (the span, by default) would hide a second alert.
	e := engine(t, mfaExportRule+"suppress: 1s\n", nil)
	mfa := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "authentication", "mfa_disable")
	}
	exp := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "export", "export", records(500))
	}
	for _, tc := range []struct {
		name string
		evs  []*event.Event
		want string
		dups uint64
	}{
		{"a step's copy before the sequence completes", []*event.Event{mfa("m", 0), mfa("m", 0), exp("x1", time.Minute), exp("x2", 2*time.Minute)}, "x1", 1},
		{"a step's copy after the sequence completed", []*event.Event{mfa("m", 0), exp("x1", time.Minute), mfa("m", 0), exp("x2", 2*time.Minute)}, "x1", 1},
		{"the trigger's copy", []*event.Event{mfa("m1", 0), mfa("m2", 30*time.Second), exp("x", time.Minute), exp("x", time.Minute)}, "x", 1},
		{"a copy out of order", []*event.Event{mfa("m", 0), exp("x1", 20*time.Second), exp("x2", 40*time.Second), mfa("m", 0)}, "x1", 1},
		{"distinct events at one time", []*event.Event{mfa("m1", 0), mfa("m2", 0), exp("x1", time.Minute), exp("x2", 2*time.Minute)}, "x1,x2", 0},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDuplicates(t, e, tc.evs, tc.want, tc.dups) })
	}

	// What a sequence consumed stays recognised across a snapshot: the
	// restored shard skips the copy of m, which would pair with x2.
	sh := e.NewShard()
	out := sh.Process(mfa("m", 0), nil)
	out = sh.Process(exp("x1", 20*time.Second), out)
	var snap bytes.Buffer
	if err := sh.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	restored, err := RestoreShard(e, &snap)
	if err != nil {
		t.Fatal(err)
	}
	out = restored.Process(mfa("m", 0), out)
	out = restored.Process(exp("x2", 40*time.Second), out)
	if got := triggers(out); got != "x1" {
		t.Errorf("across a snapshot: alerts triggered by %q, want x1\n%s", got, describe(out))
	}
}

// TestDuplicateNewValueEvents: a new-value rule needs no check of its own.
// The first copy records its value as seen at its time, so the second finds
// it known and raises nothing, the suppression left out of it.
func TestDuplicateNewValueEvents(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category == "authentication"
group_by: [user.id]
new_value:
  field: client.geo.country
  history: 30d
  min_history: 1d
suppress: 1s
`, nil)
	login := func(id string, d time.Duration, c string) *event.Event {
		return ev(id, at(d), "authentication", "login", country(c))
	}
	out := run(e, login("1", 0, "US"), login("2", 2*Day, "FR"), login("2", 2*Day, "FR"), login("3", 3*Day, "DE"))
	if got := triggers(out); got != "2,3" {
		t.Errorf("alerts triggered by %q, want 2,3:\n%s", got, describe(out))
	}
}

// checkDuplicates runs evs through a new shard of e and compares the
// alerts' triggers and the duplicates its only rule counted.
func checkDuplicates(t *testing.T, e *Engine, evs []*event.Event, want string, dups uint64) {
	t.Helper()
	sh := e.NewShard()
	var out []Output
	for _, x := range evs {
		out = sh.Process(x, out)
	}
	if got := triggers(out); got != want {
		t.Errorf("alerts triggered by %q, want %q\n%s", got, want, describe(out))
	}
	if d := sh.Stats().Rules[0].Duplicates; d != dups {
		t.Errorf("duplicates counted: %d, want %d", d, dups)
	}
}

// TestSequenceCapDropsConsumedFirst: a full step list drops the events a
// sequence consumed (kept only to recognise copies) before any that may
// still start one. m2 starts the first sequence; at a cap of two, m3's
// arrival drops m2, not m1, which then starts the third sequence.
func TestSequenceCapDropsConsumedFirst(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWindowEvents = 2
	e := engine(t, mfaExportRule+"suppress: 1s\n", &cfg)
	mfa := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "authentication", "mfa_disable")
	}
	exp := func(id string, d time.Duration) *event.Event {
		return ev(id, at(d), "export", "export", records(500))
	}
	sh := e.NewShard()
	var out []Output
	for _, x := range []*event.Event{mfa("m1", 0), mfa("m2", 10*time.Second), exp("x1", 20*time.Second), mfa("m3", 30*time.Second), exp("x2", 40*time.Second), exp("x3", 50*time.Second)} {
		out = sh.Process(x, out)
	}
	if got := triggers(out); got != "x1,x2,x3" {
		t.Errorf("alerts triggered by %q, want x1,x2,x3\n%s", got, describe(out))
	}
	if o := sh.Stats().Rules[0].Overflow; o != 0 {
		t.Errorf("overflow counted %d, want 0: only consumed events were dropped", o)
	}
}
