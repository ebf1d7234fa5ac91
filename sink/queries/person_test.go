package queries

import (
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestPersonTimeline: one person's events from three systems, resolved at
// ingest or stored before the directory knew the account, and nobody
// else's.
func TestPersonTimeline(t *testing.T) {
	f := newFixture(t)
	on := func(e event.Event, system, account, person string) event.Event {
		e.Source.System, e.User.ID, e.User.PersonID = system, account, person
		return e
	}
	f.events(t,
		on(ev("sf-export", "acme", "", "export", "export", "success", ago(time.Hour)), "salesforce", "005A", "P9"),
		on(ev("hs-mfa", "acme", "", "authentication", "mfa_disable", "success", ago(2*time.Hour)), "hubspot", "77", ""),
		on(ev("d-view", "acme", "", "data_access", "view", "success", ago(3*time.Hour)), "dynamics365", "d-1", "P9"),
		on(ev("other", "acme", "", "export", "export", "success", ago(time.Hour)), "salesforce", "005B", "P8"),
		on(ev("same-id-other-system", "acme", "", "export", "export", "success", ago(time.Hour)), "salesforce", "77", ""),
		on(ev("other-tenant", "globex", "", "export", "export", "success", ago(time.Hour)), "hubspot", "77", ""),
	)
	at := ago(24 * time.Hour)
	for _, snap := range []struct {
		id       string
		at       time.Time
		accounts []string
	}{
		{"s1", at, []string{"salesforce:005A"}},
		{"s2", at.Add(time.Hour), []string{"salesforce:005A", "hubspot:77", "dynamics365:d-1"}},
	} {
		if err := f.st.Exec(t.Context(), `INSERT INTO directory_people (tenant, snapshot_id, imported_at, person_id, accounts, status, type)
			VALUES ('acme', ?, ?, 'P9', ?, 'active', 'person')`, snap.id, snap.at, snap.accounts); err != nil {
			t.Fatal(err)
		}
		if err := f.st.Exec(t.Context(), `INSERT INTO directory_snapshots (tenant, snapshot_id, imported_at, people) VALUES ('acme', ?, ?, 1)`, snap.id, snap.at); err != nil {
			t.Fatal(err)
		}
	}
	got := f.run(t, "person-timeline", map[string]string{"tenant": "acme", "person": "P9",
		"from": ago(48 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)})
	want := []string{
		"11-10T11:00|sf-export|salesforce|005A|@acme.example|1|export|export|success||||||NULL",
		"11-10T10:00|hs-mfa|hubspot|77|@acme.example|0|authentication|mfa_disable|success||||||NULL",
		"11-10T09:00|d-view|dynamics365|d-1|@acme.example|1|data_access|view|success||||||NULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
