package detect

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/schemas/event"
)

func changes(cs ...event.Change) func(*event.Event) {
	return func(e *event.Event) { e.Changes = cs }
}

// TestShadowFunctions: shadow_data(), shadow_fields() and shadow_samples()
// read the current event's free text through compliance/shadow, name
// kinds, places and masked samples only, and route the pack's way.
func TestShadowFunctions(t *testing.T) {
	e := engine(t, ruleHead+`filter: >
  event.category in ["data_change", "export"] && len(shadow_data()) > 0
group_by: [object.type, object.id]
values:
  kinds: shadow_data()
  fields: shadow_fields()
  samples: shadow_samples()
  has_card: '"card_number" in shadow_data()'
summary: '{{ join(shadow_data(), ",") }} in {{ join(shadow_fields(), ",") }}'
`, nil)
	if r := e.Rules()[0].Route; strings.Contains(r, "any") || !strings.Contains(r, "data_change") || !strings.Contains(r, "export") {
		t.Errorf("route %q, want data_change and export only", r)
	}
	dirty := ev("e1", at(0), "data_change", "update", object("003A"), changes(
		event.Change{Field: "Description", Old: "call +1 415 555 0100", New: "card 4111 1111 1111 1111"},
		event.Change{Field: "Email", Old: "", New: "jane@acme.example"}))
	before := *dirty
	before.Changes = append([]event.Change(nil), dirty.Changes...)
	clean := ev("e2", at(time.Minute), "data_change", "update", object("003B"), changes(event.Change{Field: "Description", New: "order ORD-4111111111111111 on 2026-11-03"}))
	login := ev("e3", at(2*time.Minute), "authentication", "login", func(e *event.Event) { e.Comment = "SSN 123-45-6789" })
	out := run(e, dirty, clean, login)
	as := alertsOf(out)
	if len(as) != 1 || as[0].EventIDs[0] != "e1" {
		t.Fatalf("alerts: %s", describe(out))
	}
	a := as[0]
	if got := fmt.Sprint(a.Values["kinds"], a.Values["fields"], a.Values["has_card"]); got != "[card_number phone] [changes.Description.new changes.Description.old] true" {
		t.Errorf("values %s", got)
	}
	if got := fmt.Sprint(a.Values["samples"]); got != "[phone in changes.Description.old: +* *** *** 0100 card_number in changes.Description.new: **** **** **** 1111]" {
		t.Errorf("samples %s", got)
	}
	if a.Summary != "card_number,phone in changes.Description.new,changes.Description.old" {
		t.Errorf("summary %q", a.Summary)
	}
	if !dirty.Equal(&before) {
		t.Error("the engine changed the event it scanned")
	}
}

// TestShadowFunctionsOnStoredEvents: a late event makes a window evaluate
// a stored event again; the functions read it from the window's
// projection (changes, comment, object.name, category, action).
func TestShadowFunctionsOnStoredEvents(t *testing.T) {
	e := engine(t, ruleHead+`filter: event.category in ["data_change", "export"]
group_by: [user.id]
window: 30m
condition: count() >= 3 && len(shadow_data()) > 0
values:
  fields: shadow_fields()
`, nil)
	out := run(e,
		ev("e1", at(0), "data_change", "update", object("003A")),
		ev("e3", at(10*time.Minute), "export", "export", func(e *event.Event) { e.Object.Name = "Leads of jane@acme.example" }),
		ev("e2", at(10*time.Minute-30*time.Second), "data_change", "update", object("003B")), // late: e3 is evaluated again, stored
	)
	as := alertsOf(out)
	if len(as) != 1 || fmt.Sprint(as[0].Values["fields"]) != "[object.name]" || as[0].EventIDs[len(as[0].EventIDs)-1] != "e3" {
		t.Fatalf("alerts: %s", describe(out))
	}
}

// TestPackShadowRule: the shipped pack holds the rule compliance/shadow
// names, and it routes on categories and actions, so events it cannot
// match (logins, sessions, views) never evaluate it.
func TestPackShadowRule(t *testing.T) {
	rs, err := Load("../rules")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(rs, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range e.Rules() {
		if ri.ID == shadow.RuleID {
			for _, no := range []string{"any", "authentication", "session"} {
				if strings.Contains(ri.Route, no) {
					t.Errorf("%s routes on %q: %s", ri.ID, no, ri.Route)
				}
			}
			return
		}
	}
	t.Fatalf("no rule %s in the pack", shadow.RuleID)
}

// BenchmarkShadowRule runs the pack's shadow-data rule alone on an event
// it is not routed to (a login) and on a clean update with three changes
// (a stage, an amount, a sentence with a date and an order id): the
// first costs the router's lookup only, the second the scan.
func BenchmarkShadowRule(b *testing.B) {
	src, err := os.ReadFile("../rules/shadow.pii_in_free_text.yaml")
	if err != nil {
		b.Fatal(err)
	}
	e := engine(b, string(src), nil)
	login := ev("l", at(0), "authentication", "login", func(e *event.Event) { e.Comment = "via SSO" })
	update := ev("u", at(0), "data_change", "update", object("006A"), changes(
		event.Change{Field: "StageName", Old: "Prospecting", New: "Negotiation/Review"},
		event.Change{Field: "Amount", Old: "125000", New: "150000.50"},
		event.Change{Field: "Description", Old: "", New: "Customer asked on 2026-11-03 to move order ORD-2026-000123 to next quarter; see notes."}))
	for _, tc := range []struct {
		name string
		ev   *event.Event
	}{{"not-routed", login}, {"routed-clean-update", update}} {
		b.Run(tc.name, func(b *testing.B) {
			sh := e.NewShard()
			out := make([]Output, 0, 4)
			x := *tc.ev
			b.ReportAllocs()
			for b.Loop() {
				x.Timestamp = x.Timestamp.Add(time.Millisecond)
				if out = sh.Process(&x, out[:0]); len(out) != 0 {
					b.Fatal("alert on a clean event")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}
