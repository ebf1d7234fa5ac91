package detect

import (
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
		t.Run(tc.name, func(t *testing.T) {
			sh := win.NewShard()
			var out []Output
			for _, x := range tc.evs {
				out = sh.Process(x, out)
			}
			if got := triggers(out); got != tc.want {
				t.Errorf("alerts triggered by %q, want %q\n%s", got, tc.want, describe(out))
			}
			if d := sh.Stats().Rules[0].Duplicates; d != tc.dups {
				t.Errorf("duplicates counted: %d, want %d", d, tc.dups)
			}
		})
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
