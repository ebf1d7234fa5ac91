package sink

import (
	"context"
	"fmt"
	"testing"

	"github.com/trailwatch/trailwatch/internal/kafka"
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

	for _, c := range rollupCases("audit_events") {
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

// TestRollupsCountRedeliveriesOnce stores a batch, then, as a sink
// started after a crash would, the same positions again within a batch of
// other boundaries (so the insert token differs) plus new ones, then a
// collector's resend of three events at new positions, and an alert the
// detector emitted again. Every roll-up must equal the aggregate of the
// distinct events (and alerts) stored.
func TestRollupsCountRedeliveriesOnce(t *testing.T) {
	e := newEnv(t)
	tp := e.topics()
	ev := func(i int) event.Event {
		x := testEvent(i, "acme", fmt.Sprintf("005%c", 'A'+i%3))
		switch i % 3 {
		case 0:
			x.Event = event.Activity{Category: "export", Action: "export", Outcome: "success"}
			x.Records, x.HasRecords = int64(100*(i+1)), true
		case 1:
			x.Event = event.Activity{Category: "authentication", Action: "login", Outcome: "failure"}
			x.Client.Geo = event.Geo{Country: "BR", Lat: -23.5, Lon: -46.6, HasCoords: true}
		}
		return x
	}
	batch := func(from, to int, at func(i int) int64) []kafka.Message {
		var msgs []kafka.Message
		for i := from; i < to; i++ {
			msgs = append(msgs, eventMsg(t, tp.Activity, 0, at(i), ev(i)))
		}
		return msgs
	}
	same := func(i int) int64 { return int64(i) }
	a := testAlert("al-1", "acme", "rule.x", "high", "005A", "acme-ev-1")
	first := append(batch(0, 10, same), jsonMsg(t, tp.Alerts, 0, 0, a))
	if err := e.newSink(t, Deps{}).Handle(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	// A new sink: it knows nothing of what the first stored.
	s := e.newSink(t, Deps{})
	again := append(batch(5, 15, same), jsonMsg(t, tp.Alerts, 0, 1, a))
	if err := s.Handle(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	resend := batch(0, 3, func(i int) int64 { return int64(15 + i) })
	if err := s.Handle(t.Context(), resend); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count() FROM audit_events FINAL"); n != 18 {
		t.Fatalf("audit_events holds %d rows, want 18 (15 positions and 3 resent)", n)
	}
	if n := e.count(t, "SELECT sum(events) FROM rollup_activity_minute"); n != 15 {
		t.Errorf("rollup_activity_minute counts %d events, want the 15 distinct ones", n)
	}
	if n := e.count(t, "SELECT sum(alerts) FROM rollup_alerts_hourly"); n != 1 {
		t.Errorf("rollup_alerts_hourly counts %d alerts, want 1", n)
	}
	distinct := `(SELECT * FROM audit_events ORDER BY kafka_partition, kafka_offset LIMIT 1 BY id)`
	for _, c := range rollupCases(distinct) {
		got, want := e.rowsText(t, c.rollup), e.rowsText(t, c.direct)
		if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: roll-up %v, distinct events %v", c.name, got, want)
		}
	}
}

// rollupCases pairs each event roll-up, read back, with the same
// aggregate computed from source (audit_events, or a subquery of it).
func rollupCases(source string) []struct{ name, rollup, direct string } {
	return []struct{ name, rollup, direct string }{
		{"activity per minute",
			`SELECT tenant, minute, category, action, outcome, sum(events) FROM rollup_activity_minute
			 GROUP BY ALL ORDER BY ALL`,
			`SELECT tenant, toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute, category, action, outcome, count() FROM ` + source + `
			 GROUP BY ALL ORDER BY ALL`},
		{"exports per person and day",
			`SELECT tenant, day, person_key, sum(exports), sum(exported_records), max(max_records) FROM rollup_exports_daily
			 GROUP BY ALL ORDER BY ALL`,
			`SELECT tenant, toDate(timestamp, 'UTC') AS day, person_key, count(), sum(ifNull(records, 0)), max(ifNull(records, 0)) FROM ` + source + `
			 WHERE category = 'export' AND outcome = 'success' GROUP BY ALL ORDER BY ALL`},
		{"failed logins per person, country and hour",
			`SELECT tenant, hour, person_key, country, sum(failures), sum(located) FROM rollup_failed_logins_hourly
			 GROUP BY ALL ORDER BY ALL`,
			`SELECT tenant, toStartOfHour(toDateTime(timestamp, 'UTC')) AS hour, person_key, geo_country, count(), countIf(geo_lat IS NOT NULL) FROM ` + source + `
			 WHERE category = 'authentication' AND action = 'login' AND outcome = 'failure' GROUP BY ALL ORDER BY ALL`},
	}
}
