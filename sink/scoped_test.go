package sink

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
	"github.com/trailwatch/trailwatch/sink/queries"
)

// TestScopedUsersOnTheSchema reads the migrated schema as the embedded
// server's scoped users (docs/STORAGE.md, "Access control"): a reader
// scoped to one tenant sees that tenant's events, masked events, roll-ups
// and named-query results only; an auditor reads the masked views and its
// roll-ups and is refused the tables behind them.
func TestScopedUsersOnTheSchema(t *testing.T) {
	e := newEnv(t)
	if e.ch.TenantReader == "" {
		t.Skip("an external server scopes users with the SQL roles of 0006_access_control.sql, not with configured users")
	}
	tenant := e.ch.TenantReaderTenant
	var evs []*event.Event
	for i, who := range []struct{ tenant, person string }{{tenant, "005A"}, {tenant, "005A"}, {"globex", "005G"}, {"globex", "005G"}, {"globex", "005H"}} {
		ev := testEvent(i, who.tenant, who.person)
		if i%2 == 1 {
			ev.Event = event.Activity{Category: "authentication", Action: "login", Outcome: "failure"}
			ev.Client.Geo = event.Geo{Country: "FR"}
		}
		evs = append(evs, &ev)
	}
	history.Store(t, e.st, evs, 0, nil)

	scoped := history.OpenAs(t, e.ch, e.ch.TenantReader, e.ch.ReaderPassword)
	for sql, want := range map[string]uint64{
		"SELECT count() FROM audit_events":                              2,
		"SELECT count() FROM audit_events_masked":                       2,
		"SELECT count() FROM audit_events WHERE tenant = 'globex'":      0,
		"SELECT count() FROM (SELECT * FROM audit_events) AS a":         2,
		"SELECT sum(events) FROM rollup_activity_minute":                2,
		"SELECT count() FROM rollup_failed_logins_hourly":               1,
		"SELECT count() FROM audit_events_masked WHERE tenant = 'acme'": 2,
	} {
		var got uint64
		if err := scoped.Conn().QueryRow(t.Context(), sql).Scan(&got); err != nil || got != want {
			t.Errorf("%s as %s: %d (%v), want %d", sql, e.ch.TenantReader, got, err, want)
		}
	}
	// Named queries run as that user answer for its tenant only.
	for _, tc := range []struct {
		tenant, person string
		want           int
	}{{tenant, "005A", 2}, {"globex", "005G", 0}} {
		rows, err := queries.Run(t.Context(), scoped, "user-timeline", map[string]string{"tenant": tc.tenant, "person": tc.person, "from": "2020-01-01", "to": "now"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != tc.want {
			t.Errorf("user-timeline of %s/%s as %s: %d rows, want %d", tc.tenant, tc.person, e.ch.TenantReader, n, tc.want)
		}
	}

	auditor := history.OpenAs(t, e.ch, e.ch.Auditor, e.ch.ReaderPassword)
	var n uint64
	if err := auditor.Conn().QueryRow(t.Context(), "SELECT count() FROM audit_events_masked").Scan(&n); err != nil || n != 5 {
		t.Errorf("audit_events_masked as the auditor: %d (%v), want 5", n, err)
	}
	if err := auditor.Conn().QueryRow(t.Context(), "SELECT sum(events) FROM rollup_activity_minute").Scan(&n); err != nil || n != 5 {
		t.Errorf("rollup_activity_minute as the auditor: %d (%v), want 5", n, err)
	}
	for _, sql := range []string{
		"SELECT count() FROM audit_events",
		"SELECT count() FROM alerts",
		"SELECT count() FROM rollup_exports_daily",
		"SELECT count() FROM audit_events_masked WHERE id IN (SELECT id FROM audit_events WHERE user_name != '')",
	} {
		err := auditor.Conn().QueryRow(t.Context(), sql).Scan(&n)
		if err == nil || !strings.Contains(err.Error(), "ACCESS_DENIED") {
			t.Errorf("%s as the auditor: %v, want ACCESS_DENIED", sql, err)
		}
	}
}
