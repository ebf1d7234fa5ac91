package identity

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

func mustParse(t testing.TB, csv string) *Snapshot {
	t.Helper()
	s, err := Parse([]byte(csv), "x.csv", FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiff(t *testing.T) {
	prev := mustParse(t, `person_id,department,role,status,status_date,accounts
p-a,sales,rep,active,,salesforce:1
p-b,sales,rep,active,,salesforce:2
p-c,service,agent,active,,
p-d,it,admin,active,,
p-e,it,admin,left,2026-01-01,
p-f,it,admin,active,,
`)
	next := mustParse(t, `person_id,given_name,department,role,status,status_date,accounts
p-a,Al,sales,rep,active,,salesforce:1
p-b,,marketing,rep,active,,salesforce:2;hubspot:2
p-c,,service,agent,left,2026-11-20,
p-e,,it,admin,active,,
p-g,,sales,rep,active,,
p-h,,sales,rep,left,2026-11-01,
`)
	got := map[string]ChangeKind{}
	for _, c := range Diff(prev, next) {
		got[c.Person.ID] = c.Kind
	}
	want := map[string]ChangeKind{
		"p-b": Move,   // department and accounts
		"p-c": Leaver, // marked left
		"p-d": Leaver, // removed
		"p-e": Joiner, // back after leaving
		"p-f": Leaver, // removed
		"p-g": Joiner, // new
		// p-a: only the name changed; p-h: new but left already.
	}
	if len(got) != len(want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	for id, k := range want {
		if got[id] != k {
			t.Errorf("%s: %q, want %q", id, got[id], k)
		}
	}
	if n := len(Diff(next, next)); n != 0 {
		t.Errorf("a snapshot against itself: %d changes", n)
	}
	if n := len(Diff(nil, prev)); n != 5 {
		t.Errorf("first snapshot: %d joiners, want 5 (p-e left already)", n)
	}
}

func TestEventsAreValidAndDeterministic(t *testing.T) {
	prev := mustParse(t, "person_id,emails,department,timezone,accounts\np-a,a@acme.example,sales,Europe/Paris,salesforce:1\n")
	next := mustParse(t, "person_id,emails,department,timezone,accounts\np-a,a@acme.example,marketing,Europe/Paris,salesforce:1\np-b,,sales,,\n")
	at := time.Date(2026, 11, 20, 9, 0, 0, 123456789, time.UTC)
	changes := Diff(prev, next)
	evs := Events(changes, "acme", next.Digest, at)
	again := Events(changes, "acme", next.Digest, at.Add(time.Hour))
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for i := range evs {
		e := &evs[i]
		if err := event.Validate(e, event.DefaultOptions()); err != nil {
			t.Errorf("event %d invalid: %v", i, err)
		}
		if e.ID != again[i].ID {
			t.Errorf("ids differ across runs: %s, %s", e.ID, again[i].ID)
		}
		if e.Event.Category != "configuration" || e.Source.System != SourceSystem || e.User.PersonID != e.Object.ID {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	move := evs[0]
	if move.Event.Action != string(Move) || len(move.Changes) != 1 || move.Changes[0] != (event.Change{Field: "department", Old: "sales", New: "marketing"}) {
		t.Errorf("move = %+v", move)
	}
	if evs[1].Event.Action != string(Joiner) || evs[1].User.ID != "p-b" {
		t.Errorf("joiner = %+v", evs[1])
	}
}
