package identity_test

import (
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/detect"
	"github.com/trailwatch/trailwatch/identity"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The directory of the cross-system tests: two people with accounts in
// three CRMs, working in different time zones.
const threeSystems = `person_id,emails,department,role,timezone,accounts
p-kim,dana.kim@acme.example,sales,sales_rep,America/New_York,salesforce:005K0000001;hubspot:77;dynamics365:6f1c2a8e-0000-4000-8000-000000000001
p-lee,sam.lee@acme.example,sales,sales_rep,Asia/Tokyo,salesforce:005L0000001;hubspot:78;dynamics365:6f1c2a8e-0000-4000-8000-000000000002
`

func resolver(t *testing.T) *identity.Resolver {
	t.Helper()
	s, err := identity.Parse([]byte(threeSystems), "people.csv", identity.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	r, err := identity.NewResolver(identity.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Swap(identity.NewIndex(s))
	return r
}

func engine(t *testing.T) *detect.Engine {
	t.Helper()
	rs, err := detect.Load("../rules")
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.NewEngine(rs, detect.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// collected is an event as a collector hands it to ingest: the vendor's
// account id, UTC time, no person.
func collected(id, system, account, category, action string, at time.Time, records int64) *event.Event {
	e := &event.Event{ID: id, Timestamp: at, Tenant: "acme", Source: event.Source{System: system},
		Event: event.Activity{Category: category, Action: action, Outcome: "success"},
		User:  event.User{ID: account}}
	if records > 0 {
		e.Records, e.HasRecords = records, true
	}
	return e
}

// alertsOf runs events (resolved by r when r is not nil) through a fresh
// shard of the shipped rule pack and returns the alerts of rule, by group.
func alertsOf(t *testing.T, r *identity.Resolver, rule string, evs ...*event.Event) []map[string]string {
	t.Helper()
	sh := engine(t).NewShard()
	var out []detect.Output
	var groups []map[string]string
	for _, e := range evs {
		if r != nil {
			r.Resolve(e)
		}
		if err := event.Validate(e, event.Options{ResolveTimezone: true}); err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		out = sh.Process(e, out[:0])
		for _, o := range out {
			if o.Kind == detect.OutputAlert && o.Alert.Rule.ID == rule {
				groups = append(groups, o.Alert.Group)
			}
		}
	}
	return groups
}

const crossSystem = "seq.mfa_disabled_then_export"

func TestCrossSystemSequenceBySamePerson(t *testing.T) {
	at := time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)
	evs := func() []*event.Event {
		return []*event.Event{
			collected("hs-1", "hubspot", "77", "authentication", "mfa_disable", at, 0),
			collected("sf-1", "salesforce", "005K0000001", "export", "export", at.Add(12*time.Minute), 4200),
		}
	}
	got := alertsOf(t, resolver(t), crossSystem, evs()...)
	if len(got) != 1 || got[0]["person"] != "p-kim" {
		t.Fatalf("alerts = %v, want one for person p-kim", got)
	}
	// The control: unresolved, the two accounts are two keys and nothing
	// joins them.
	if got := alertsOf(t, nil, crossSystem, evs()...); len(got) != 0 {
		t.Errorf("without the directory: alerts %v, want none", got)
	}
}

func TestCrossSystemSequenceByTwoPeopleDoesNotFire(t *testing.T) {
	at := time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)
	got := alertsOf(t, resolver(t), crossSystem,
		collected("hs-1", "hubspot", "77", "authentication", "mfa_disable", at, 0),                                                // p-kim
		collected("sf-1", "salesforce", "005L0000001", "export", "export", at.Add(12*time.Minute), 4200),                          // p-lee
		collected("d-1", "dynamics365", "6f1c2a8e-0000-4000-8000-000000000002", "export", "export", at.Add(20*time.Minute), 9000), // p-lee
	)
	if len(got) != 0 {
		t.Fatalf("alerts = %v, want none", got)
	}
}

// TestOffHoursUsesTheDirectorysZone: the vendor's UTC timestamp says 07:14;
// that is 02:14 in New York (off hours) and 16:14 in Tokyo (working hours).
func TestOffHoursUsesTheDirectorysZone(t *testing.T) {
	const rule = "export.off_hours_bulk_by_human"
	at := time.Date(2026, 11, 3, 7, 14, 7, 0, time.UTC) // a Tuesday
	r := resolver(t)

	kim := collected("d-1", "dynamics365", "6f1c2a8e-0000-4000-8000-000000000001", "export", "export", at, 6000)
	got := alertsOf(t, r, rule, kim)
	if len(got) != 1 || got[0]["person"] != "p-kim" || kim.User.Timezone != "America/New_York" {
		t.Errorf("New York at 02:14: alerts %v (zone %q), want one for p-kim", got, kim.User.Timezone)
	}
	lee := collected("d-2", "dynamics365", "6f1c2a8e-0000-4000-8000-000000000002", "export", "export", at, 6000)
	if got := alertsOf(t, r, rule, lee); len(got) != 0 || lee.User.Timezone != "Asia/Tokyo" {
		t.Errorf("Tokyo at 16:14: alerts %v (zone %q), want none", got, lee.User.Timezone)
	}
	// The control: without the directory the UTC time stands, 07:14 is
	// before 08:00, and Tokyo's afternoon export would be called off hours.
	if got := alertsOf(t, nil, rule, collected("d-2", "dynamics365", "6f1c2a8e-0000-4000-8000-000000000002", "export", "export", at, 6000)); len(got) != 1 {
		t.Errorf("without the directory: alerts %v, want one", got)
	}
}
