package detect

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// `a ?? b` is "first non-empty" for the event's text fields (absent
// strings are ""), as docs/RULES.md says, and stays on the lowered path.
func TestCoalesceFirstNonEmpty(t *testing.T) {
	e := engine(t, ruleHead+`filter: (user.department ?? "none") == "none"
group_by: [person]
previous: 1h
summary: '{{ user.name ?? user.id }} after {{ prev.client.geo.city ?? prev.client.geo.country }}; {{ user.role ?? "no role" }}'
`, nil)
	named := func(id, name string, d time.Duration, city string) *event.Event {
		return ev(id, at(d), "authentication", "login", country("FR"), func(e *event.Event) {
			e.User.Name, e.Client.Geo.City = name, city
		})
	}
	out := run(e, named("1", "", 0, ""), named("2", "", time.Minute, "Paris"), named("3", "x@acme.example", 2*time.Minute, ""))
	as := alertsOf(out)
	if len(as) != 3 || as[0].Summary != "u1 after ?; no role" {
		t.Fatalf("alerts: %s", describe(out))
	}
	if as[1].Summary != "u1 after FR; no role" || as[2].Summary != "x@acme.example after Paris; no role" {
		t.Errorf("summaries %q, %q", as[1].Summary, as[2].Summary)
	}
	dept := ev("4", at(3*time.Minute), "authentication", "login", func(e *event.Event) { e.User.Department = "sales" })
	if out := run(e, dept); len(alertsOf(out)) != 0 {
		t.Errorf("a department was set, yet the filter took the default: %s", describe(out))
	}
	sh := e.NewShard()
	sh.Process(named("5", "", 0, ""), nil)
	for _, r := range sh.Stats().Rules {
		if r.Fallbacks != 0 {
			t.Errorf("%s: %d evaluations fell back to expr's VM", r.Rule, r.Fallbacks)
		}
	}
}
