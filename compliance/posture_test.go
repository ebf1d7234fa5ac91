package compliance

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/identity"
	"github.com/trailwatch/trailwatch/internal/chstore"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

var auditAt = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)

func saveDirectory(t *testing.T, st *chstore.Store, at time.Time, csv string) {
	t.Helper()
	s, err := identity.Parse([]byte(csv), "people.csv", identity.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := identity.Save(t.Context(), st, identity.NewStored("acme", s, "people.csv", identity.FormatCSV, at, nil), s); err != nil {
		t.Fatal(err)
	}
}

// TestPostureAudit plants one account of each kind among clean ones and
// checks that the audit finds exactly the planted ones.
func TestPostureAudit(t *testing.T) {
	st := openStore(t)
	const header = "person_id,emails,status,status_date,type,owner,accounts\n"
	people := "p-clean1,c1@acme.example,active,,person,,salesforce:005CLEAN1\n" +
		"p-clean2,c2@acme.example,active,,person,,salesforce:005CLEAN2\n" +
		"p-admin,ad@acme.example,active,,person,,salesforce:005ADMIN\n" +
		"p-ghost,g@acme.example,left,2026-10-01,person,,salesforce:005GHOST\n" +
		"p-quiet,q@acme.example,left,2026-09-01,person,,salesforce:005QUIET\n" +
		"p-dormant,d@acme.example,active,,person,,salesforce:005DORM\n" +
		"p-priv,p@acme.example,active,,person,,salesforce:005PRIV\n" +
		"p-shared,s@acme.example,active,,person,,salesforce:005SHARED\n" +
		"p-team,,active,,person,,salesforce:005TEAM\n" +
		"svc-sync,,active,,integration,p-clean1,salesforce:005SYNC\n"
	saveDirectory(t, st, auditAt.Add(-60*24*time.Hour), header+people+"p-gone,gone@acme.example,active,,person,,salesforce:005GONE\n")
	saveDirectory(t, st, auditAt.Add(-20*24*time.Hour), header+people)

	var evs []*event.Event
	n := 0
	add := func(at time.Time, user, name, category, action string, f func(*event.Event)) {
		n++
		e := &event.Event{ID: fmt.Sprint("ev-", n), Timestamp: at, Tenant: "acme", Source: event.Source{System: "salesforce"},
			Event:  event.Activity{Category: category, Action: action, Outcome: "success"},
			User:   event.User{ID: user, Name: name, Type: "human"},
			Client: event.Client{DeviceID: "dev-" + user, Geo: event.Geo{Country: "US"}}}
		if f != nil {
			f(e)
		}
		evs = append(evs, e)
	}
	day := func(d int) time.Time { return auditAt.Add(time.Duration(d) * 24 * time.Hour) }
	logins := func(user, name string, from, to int) {
		for d := from; d <= to; d += 3 {
			add(day(d).Add(-2*time.Hour), user, name, "authentication", "login", nil)
		}
	}
	grant := func(d int, target, perm, action string) {
		add(day(d), "005ADMIN", "ad@acme.example", "permission", action, func(e *event.Event) {
			e.TargetUser, e.Permission = event.TargetUser{ID: target, Name: target}, event.Permission{Name: perm}
		})
	}
	for _, u := range []string{"005CLEAN1", "005CLEAN2", "005ADMIN", "005GHOST", "005PRIV", "005SHARED", "005GONE"} {
		logins(u, "person."+strings.ToLower(u[3:])+"@acme.example", -150, 0)
	}
	logins("005TEAM", "sales@acme.example", -150, 0)                      // role-like name
	logins("005QUIET", "q@acme.example", -150, -71)                       // left 2026-09-01, silent since: clean
	logins("005DORM", "d@acme.example", -150, -100)                       // dormant
	add(day(-5), "005DORM", "d@acme.example", "data_access", "view", nil) // a view is not a login
	add(day(-150), "005SYNC", "sync@acme.example", "authentication", "login", func(e *event.Event) { e.User.Type = "integration" })
	for d := -150; d <= 0; d++ {
		add(day(d), "005SYNC", "sync@acme.example", "data_change", "update", func(e *event.Event) { e.User.Type = "integration" })
	}
	grant(-200, "005CLEAN2", "Export Reports", "grant")
	add(day(-10), "005CLEAN2", "clean2@acme.example", "export", "export", nil)
	grant(-200, "005ADMIN", "System Administrator", "grant")
	add(day(-5), "005ADMIN", "admin@acme.example", "configuration", "config_change", nil)
	grant(-300, "005CLEAN1", "Modify All Data", "grant")
	grant(-250, "005CLEAN1", "Modify All Data", "revoke")
	grant(-200, "005PRIV", "Export Reports", "grant")  // never exports
	grant(-10, "005CLEAN1", "Export Reports", "grant") // too recent to judge
	// MFA: switched off and on again (clean), and off for good (planted).
	mfa := func(d int, target, action string) {
		add(day(d), "005ADMIN", "ad@acme.example", "authentication", action, func(e *event.Event) { e.TargetUser = event.TargetUser{ID: target} })
	}
	mfa(-40, "005CLEAN1", "mfa_disable")
	mfa(-39, "005CLEAN1", "mfa_enable")
	mfa(-3, "005PRIV", "mfa_disable")
	// Two countries within one hour.
	add(day(-6).Add(-2*time.Hour+10*time.Minute), "005SHARED", "person.shared@acme.example", "authentication", "login", func(e *event.Event) { e.Client.Geo.Country = "DE" })
	// A clean account travelling: two countries, days apart.
	add(day(-20), "005CLEAN1", "clean1@acme.example", "authentication", "login", func(e *event.Event) { e.Client.Geo.Country = "FR" })
	history.Store(t, st, evs, 0, nil)

	fs, err := Audit(t.Context(), st, "acme", DefaultAuditOptions(auditAt))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Kind+" "+f.Account)
		if f.Evidence == "" || f.Fix == "" || f.Severity == "" {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	sort.Strings(got)
	want := []string{
		"dormant_account salesforce:005DORM",
		"ghost_account salesforce:005GHOST",
		"ghost_account salesforce:005GONE",
		"mfa_disabled 005PRIV",
		"over_privileged_account 005PRIV",
		"shared_account 005SHARED",
		"shared_account 005TEAM",
		"top_exporter 005CLEAN2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var b strings.Builder
	if err := WriteFindings(&b, "acme", auditAt, fs, "table"); err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	if err := WriteFindings(&page, "acme", auditAt, fs, "html"); err != nil || !strings.Contains(page.String(), "<td>ghost_account</td>") || strings.Contains(page.String(), "<script") {
		t.Errorf("html: %v\n%s", err, page.String())
	}
	for _, s := range []string{"left on 2026-10-01", "no entry of the newest directory snapshot", "holds Export Reports", "2 countries", "role-like", "MFA disabled at", "1 exports of 0 records"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}
