package sink

import (
	"context"
	"fmt"
	"testing"

	"github.com/trailwatch/trailwatch/internal/simulate"
	"github.com/trailwatch/trailwatch/internal/testenv/history"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// TestRollupsMatchTheEvents stores a simulated day (two tenants) as the
// sink builds its rows, and compares every event roll-up the
// materialized views filled with the same aggregate computed from
// audit_events itself: the views must count what the table holds.
func TestRollupsMatchTheEvents(t *testing.T) {
	e := newEnv(t)
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.Tenants, cfg.People, cfg.History = 1, 2, 40, 0
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	if _, err := sim.Run(context.Background(), func(ev *event.Event) error { evs = append(evs, ev); return nil },
		func(*simulate.Label) error { return nil }); err != nil {
		t.Fatal(err)
	}
	history.Store(t, e.st, evs, 0, nil)

	for _, c := range []struct{ name, rollup, direct string }{
		{"activity per minute",
			`SELECT tenant, minute, category, action, outcome, sum(events) FROM rollup_activity_minute
			 GROUP BY ALL ORDER BY ALL`,
			`SELECT tenant, toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute, category, action, outcome, count() FROM audit_events
			 GROUP BY ALL ORDER BY ALL`},
		{"exports per person and day",
			`SELECT tenant, day, person_key, sum(exports), sum(exported_records), max(max_records) FROM rollup_exports_daily
			 GROUP BY ALL ORDER BY ALL`,
			`SELECT tenant, toDate(timestamp, 'UTC') AS day, person_key, count(), sum(ifNull(records, 0)), max(ifNull(records, 0)) FROM audit_events
			 WHERE category = 'export' AND outcome = 'success' GROUP BY ALL ORDER BY ALL`},
		{"failed logins per person, country and hour",
			`SELECT tenant, hour, person_key, country, sum(failures), sum(located) FROM rollup_failed_logins_hourly
			 GROUP BY ALL ORDER BY ALL`,
			`SELECT tenant, toStartOfHour(toDateTime(timestamp, 'UTC')) AS hour, person_key, geo_country, count(), countIf(geo_lat IS NOT NULL) FROM audit_events
			 WHERE category = 'authentication' AND action = 'login' AND outcome = 'failure' GROUP BY ALL ORDER BY ALL`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, want := e.rowsText(t, c.rollup), e.rowsText(t, c.direct)
			if len(want) == 0 {
				t.Fatal("the simulated day has no such events: the comparison would prove nothing")
			}
			if len(got) != len(want) {
				t.Fatalf("roll-up has %d groups, audit_events %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("group %d: roll-up %s, audit_events %s", i, got[i], want[i])
				}
			}
		})
	}
}

// rowsText runs q and renders each row as text, for comparing results.
func (e *env) rowsText(t *testing.T, q string) []string {
	t.Helper()
	rows, err := e.st.Conn().Query(t.Context(), "SELECT toString(tuple(*)) FROM ("+q+")")
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", q, err))
	}
	return out
}
